DROP TABLE IF EXISTS agent_runtime;
