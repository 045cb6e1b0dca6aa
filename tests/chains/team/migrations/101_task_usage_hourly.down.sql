-- Reverts 101: drops the hourly rollup, its state and its dirty queue (indexes go with the tables).
DROP TABLE IF EXISTS task_usage_hourly_dirty;
DROP TABLE IF EXISTS task_usage_hourly_rollup_state;
DROP TABLE IF EXISTS task_usage_hourly;
