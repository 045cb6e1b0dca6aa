-- Reverts 000: drops the legacy daily rollups (if 103's down put them back) and every base table.
-- Triggers on task_usage go with the table; their functions are dropped explicitly.

DROP TABLE IF EXISTS task_usage_dashboard_rollup_state;
DROP TABLE IF EXISTS task_usage_dashboard_daily;
DROP TABLE IF EXISTS task_usage_rollup_state;
DROP TABLE IF EXISTS task_usage_daily;

DROP TABLE IF EXISTS task_usage;
DROP FUNCTION IF EXISTS task_usage_dashboard_daily_apply();
DROP FUNCTION IF EXISTS task_usage_daily_apply();

DROP TABLE IF EXISTS agent_task_queue;
DROP TABLE IF EXISTS issue;
DROP TABLE IF EXISTS project;
DROP TABLE IF EXISTS agent;
DROP TABLE IF EXISTS agent_runtime;
DROP TABLE IF EXISTS workspace;
DROP TABLE IF EXISTS "user";
