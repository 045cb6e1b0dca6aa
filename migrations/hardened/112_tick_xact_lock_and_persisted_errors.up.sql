-- 112 rewrites the tick. It fixes:
-- L1: the tick took the session-scoped pg_try_advisory_lock(4246) and released it by hand. A cancelled tick
--     (statement_timeout, pg_cancel_backend, a client's cancel) skips WHEN OTHERS, so the lock outlived the
--     rollback on that pooled connection and every other connection's tick returned 0 from then on. The tick now
--     takes pg_try_advisory_xact_lock(4246): whatever ends the transaction (commit, error, cancel) releases it,
--     and there is no unlock to forget. The backfill's session-scoped hold on the same key still excludes ticks.
-- B8: on an error the handler wrote last_error and last_run_finished_at, then re-raised, which rolled its own
--     write back. The handler no longer re-raises: the failed work is undone (the block's implicit savepoint),
--     the error and the run's times are written and committed with the tick, a WARNING carries the message to
--     the caller, and the tick returns -1.
--     RETURN VALUE: -1 means "failed, see task_usage_hourly_rollup_state.last_error"; 0 means nothing to do or
--     another tick holds the lock; otherwise the window's row count. Only WHEN OTHERS is handled: a cancel still
--     aborts the whole tick (nothing is recorded then, and the transaction-scoped lock goes with it).
-- B4, B9, B13 (the tick's half of 110): the tick takes pg_current_snapshot() before it reads anything, passes the
--     snapshot the previous tick stored to the window (which rediscovers rows committed since) and stores its own
--     when the window has run. A tick that does not run the window keeps the stored snapshot as it is.
CREATE OR REPLACE FUNCTION rollup_task_usage_hourly() RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    v_from     TIMESTAMPTZ;
    v_to       TIMESTAMPTZ;
    v_since    PG_SNAPSHOT;
    v_snapshot PG_SNAPSHOT;
    v_rows     BIGINT := 0;
BEGIN
    IF NOT pg_try_advisory_xact_lock(4246) THEN
        RETURN 0;
    END IF;

    -- Taken before the window's own statement snapshot, so everything the window can see is visible in it or
    -- newer than it: whatever this tick misses, the next one rediscovers.
    v_snapshot := pg_current_snapshot();

    BEGIN
        UPDATE task_usage_hourly_rollup_state
           SET last_run_started_at = now(),
               last_error = NULL
         WHERE id = 1
        RETURNING watermark_at, last_snapshot INTO v_from, v_since;

        -- As before: 5 minutes of allowance, at most one day per tick.
        v_to := least(now() - INTERVAL '5 minutes', v_from + INTERVAL '1 day');

        IF v_from < v_to THEN
            v_rows := rollup_task_usage_hourly_window(v_from, v_to, v_since);
            UPDATE task_usage_hourly_rollup_state
               SET watermark_at = v_to,
                   last_snapshot = v_snapshot,
                   last_run_finished_at = now(),
                   last_run_rows = v_rows
             WHERE id = 1;
        ELSE
            UPDATE task_usage_hourly_rollup_state
               SET last_run_finished_at = now(),
                   last_run_rows = 0
             WHERE id = 1;
        END IF;
    EXCEPTION WHEN OTHERS THEN
        -- Everything of the block is rolled back at this point; this write is not.
        UPDATE task_usage_hourly_rollup_state
           SET last_run_started_at = now(),
               last_run_finished_at = now(),
               last_error = SQLERRM
         WHERE id = 1;
        RAISE WARNING 'rollup_task_usage_hourly failed: % (SQLSTATE %)', SQLERRM, SQLSTATE;
        RETURN -1;
    END;

    -- Still under the lock now (it lasts until commit); bounded by the watermark (111).
    PERFORM prune_task_usage_hourly_dirty();

    RETURN v_rows;
END;
$$;
