-- A mutant for the gate's own tests (over reference): the tick moves the watermark up to now, without the 5-minute
-- allowance for writes not yet visible. A workload whose writers all commit at once cannot tell; a transaction open
-- across a tick, committing a minute later, is passed by the watermark before it is visible, and lost.
CREATE OR REPLACE FUNCTION rollup_task_usage_hourly() RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    v_from TIMESTAMPTZ;
    v_to   TIMESTAMPTZ;
    v_rows BIGINT := 0;
BEGIN
    IF NOT pg_try_advisory_lock(4246) THEN
        RETURN 0;
    END IF;
    BEGIN
        UPDATE task_usage_hourly_rollup_state
           SET last_run_started_at = now(), last_error = NULL
         WHERE id = 1
        RETURNING watermark_at INTO v_from;
        v_to := least(now(), v_from + INTERVAL '1 day');  -- the mutation: no "- INTERVAL '5 minutes'"
        IF v_from < v_to THEN
            v_rows := rollup_task_usage_hourly_window(v_from, v_to);
            UPDATE task_usage_hourly_rollup_state
               SET watermark_at = v_to, last_run_finished_at = now(), last_run_rows = v_rows
             WHERE id = 1;
        ELSE
            UPDATE task_usage_hourly_rollup_state
               SET last_run_finished_at = now(), last_run_rows = 0
             WHERE id = 1;
        END IF;
        PERFORM pg_advisory_unlock(4246);
    EXCEPTION WHEN OTHERS THEN
        UPDATE task_usage_hourly_rollup_state
           SET last_error = SQLERRM, last_run_finished_at = now()
         WHERE id = 1;
        PERFORM pg_advisory_unlock(4246);
        RAISE;
    END;
    PERFORM prune_task_usage_hourly_dirty();
    RETURN v_rows;
END;
$$;
