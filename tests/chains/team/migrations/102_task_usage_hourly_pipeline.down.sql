-- Reverts 102: drops the tick, window, prune and lag functions, the four dirty-queue triggers with their
-- functions, and the bucket function.
DROP FUNCTION IF EXISTS task_usage_hourly_rollup_lag_seconds();
DROP FUNCTION IF EXISTS rollup_task_usage_hourly();
DROP FUNCTION IF EXISTS prune_task_usage_hourly_dirty(INTERVAL);
DROP FUNCTION IF EXISTS rollup_task_usage_hourly_window(TIMESTAMPTZ, TIMESTAMPTZ);

DROP TRIGGER IF EXISTS trg_task_usage_delete_dirty_hourly ON task_usage;
DROP TRIGGER IF EXISTS trg_issue_project_dirty_hourly ON issue;
DROP TRIGGER IF EXISTS trg_issue_delete_dirty_hourly ON issue;
DROP TRIGGER IF EXISTS trg_atq_dirty_hourly ON agent_task_queue;

DROP FUNCTION IF EXISTS task_usage_hourly_dirty_on_usage_delete();
DROP FUNCTION IF EXISTS task_usage_hourly_dirty_on_issue_project();
DROP FUNCTION IF EXISTS task_usage_hourly_dirty_on_issue_delete();
DROP FUNCTION IF EXISTS task_usage_hourly_dirty_on_task();

DROP FUNCTION IF EXISTS task_usage_hour_bucket(TIMESTAMPTZ);
