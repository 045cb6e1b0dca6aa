-- Synthetic: a tick whose cost is 2 ms per usage row in its window and nothing else worth counting. It moves
-- the watermark to 5 minutes ago (uncapped) and rolls nothing up, so at tick period T it keeps up with at most
-- T / 2 ms writes per tick, fewer by its small fixed cost.
CREATE OR REPLACE FUNCTION rollup_task_usage_hourly() RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    v_from TIMESTAMPTZ;
    v_to   TIMESTAMPTZ := now() - INTERVAL '5 minutes';
    v_rows BIGINT;
BEGIN
    SELECT watermark_at INTO v_from FROM task_usage_hourly_rollup_state WHERE id = 1 FOR UPDATE;
    IF v_from >= v_to THEN
        RETURN 0;
    END IF;
    SELECT count(*) INTO v_rows FROM task_usage WHERE updated_at >= v_from AND updated_at < v_to;
    PERFORM pg_sleep(v_rows * 0.002);
    UPDATE task_usage_hourly_rollup_state
       SET watermark_at = v_to, last_run_finished_at = now(), last_run_rows = v_rows
     WHERE id = 1;
    RETURN v_rows;
END;
$$;
