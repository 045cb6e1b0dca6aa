-- Synthetic regression (over hardened): the tick takes the advisory lock 4246 at session level again and never
-- lets it go, L1's leak made permanent. The pooled connection that ticked first keeps ticking (a session's
-- advisory locks are re-entrant); every other session that waits for the lock (a backfill's pg_advisory_lock)
-- waits for ever, which only the bench's deadline ends (bench/drive/watchdog.py).
ALTER FUNCTION rollup_task_usage_hourly() RENAME TO bench_hardened_tick;

CREATE FUNCTION rollup_task_usage_hourly() RETURNS BIGINT
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_try_advisory_lock(4246) THEN
        RETURN 0;
    END IF;
    RETURN bench_hardened_tick();
END;
$$;
