-- A mutant for the gate's own tests (over hardened): once the window has run, the queue rows it read are deleted
-- by key alone, whatever version they are in now — the drain 110 replaced, moved after the statement. A key
-- re-enqueued while the window waited (a task moved back to its runtime while a tick was held at its upsert)
-- loses its new version, and its bucket stays as the held tick computed it.
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
       AND d.provider = r.provider AND d.model = r.model;
    DROP TABLE drain_read;
    RETURN v_rows;
END;
$$;
