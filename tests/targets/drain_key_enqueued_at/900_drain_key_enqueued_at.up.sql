-- A mutant for the gate's own tests (over hardened): once the window has run, the queue rows it read are deleted
-- by key and by the enqueued_at it read, whatever version they are in now — 110's drain without its row-version
-- check. A key re-enqueued while the window waited keeps the greater enqueued_at, so a re-enqueue dated at or
-- before the one the window read (a writer whose transaction began by then, committing while the tick is held)
-- leaves enqueued_at as it was: this drain takes the new version for the old and the move back is lost. One
-- dated later survives it, as in the gate's first requeues.
ALTER FUNCTION rollup_task_usage_hourly_window(TIMESTAMPTZ, TIMESTAMPTZ, PG_SNAPSHOT)
    RENAME TO rollup_task_usage_hourly_window_kept;

CREATE FUNCTION rollup_task_usage_hourly_window(p_from TIMESTAMPTZ, p_to TIMESTAMPTZ,
                                                p_since PG_SNAPSHOT DEFAULT NULL) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    v_rows BIGINT;
BEGIN
    CREATE TEMPORARY TABLE IF NOT EXISTS drain_read (LIKE task_usage_hourly_dirty) ON COMMIT DROP;
    INSERT INTO drain_read SELECT * FROM task_usage_hourly_dirty WHERE enqueued_at < p_to;
    v_rows := rollup_task_usage_hourly_window_kept(p_from, p_to, p_since);
    DELETE FROM task_usage_hourly_dirty d
     USING drain_read r
     WHERE d.bucket_hour = r.bucket_hour AND d.workspace_id = r.workspace_id AND d.runtime_id = r.runtime_id
       AND d.agent_id = r.agent_id AND d.project_id IS NOT DISTINCT FROM r.project_id
       AND d.provider = r.provider AND d.model = r.model AND d.enqueued_at = r.enqueued_at;
    DROP TABLE drain_read;
    RETURN v_rows;
END;
$$;
