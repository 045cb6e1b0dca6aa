DROP TRIGGER IF EXISTS trg_task_usage_daily ON task_usage;
DROP TRIGGER IF EXISTS trg_task_usage_dashboard_daily ON task_usage;
DROP FUNCTION IF EXISTS task_usage_daily_apply();
DROP FUNCTION IF EXISTS task_usage_dashboard_daily_apply();
DROP TABLE IF EXISTS task_usage_dashboard_rollup_state;
DROP TABLE IF EXISTS task_usage_dashboard_daily;
DROP TABLE IF EXISTS task_usage_rollup_state;
DROP TABLE IF EXISTS task_usage_daily;
