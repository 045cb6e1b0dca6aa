-- 103: drops the legacy daily rollups (task_usage_daily per runtime, task_usage_dashboard_daily per workspace):
-- their tables, state tables, triggers, functions and, where pg_cron is installed, their cron jobs.
-- Guarded: it refuses to run while task_usage has rows the hourly rollup has not caught up with, because the
-- reports would then read an empty or partial task_usage_hourly once the legacy read path is gone.

DO $$
DECLARE
    v_newest    TIMESTAMPTZ;
    v_watermark TIMESTAMPTZ;
BEGIN
    SELECT max(coalesce(updated_at, created_at)) INTO v_newest FROM task_usage;
    IF v_newest IS NULL THEN
        RETURN;  -- no usage at all: nothing to lose
    END IF;

    SELECT watermark_at INTO v_watermark FROM task_usage_hourly_rollup_state WHERE id = 1;
    IF v_watermark IS NULL OR v_newest - v_watermark > INTERVAL '1 hour' THEN
        RAISE EXCEPTION 'migration 103 refused: task_usage_hourly lags task_usage by more than 1 hour '
                        '(watermark %, newest task_usage write %)',
                        coalesce(v_watermark::TEXT, 'missing'), v_newest
              USING HINT = 'Backfill task_usage_hourly (the backfill command) before the legacy daily rollups '
                           'are dropped, then migrate again.';
    END IF;
END;
$$;

-- Unschedule the legacy jobs only when pg_cron is there; dynamic SQL so nothing refers to cron.* otherwise.
DO $$
BEGIN
    IF to_regclass('cron.job') IS NOT NULL THEN
        EXECUTE $sql$
            SELECT cron.unschedule(jobid)
              FROM cron.job
             WHERE jobname IN ('task_usage_daily_rollup', 'task_usage_dashboard_daily_rollup')
        $sql$;
    END IF;
END;
$$;

DROP TRIGGER IF EXISTS trg_task_usage_daily ON task_usage;
DROP TRIGGER IF EXISTS trg_task_usage_dashboard_daily ON task_usage;
DROP FUNCTION IF EXISTS task_usage_daily_apply();
DROP FUNCTION IF EXISTS task_usage_dashboard_daily_apply();
DROP TABLE IF EXISTS task_usage_daily;
DROP TABLE IF EXISTS task_usage_rollup_state;
DROP TABLE IF EXISTS task_usage_dashboard_daily;
DROP TABLE IF EXISTS task_usage_dashboard_rollup_state;
