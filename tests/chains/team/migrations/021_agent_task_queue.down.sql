DROP TABLE IF EXISTS agent_task_queue;
