-- 111 fixes B5: the prune deleted queue rows older than now() - retention, processed or not. After a pause longer
-- than the retention the tick advances the watermark by one day and then prunes invalidations that no window has
-- reached yet, losing them. The prune is now bounded by the watermark instead of the clock: it deletes only rows
-- enqueued more than the retention before watermark_at. Every window up to the watermark has taken all rows
-- enqueued before its p_to, so what is pruned is at least a retention behind the last window (a leftover the
-- window could not drain, see 110). Rows no window has reached are never pruned, however long the pause.
-- The tick still prunes after its work (112), with the default retention.
CREATE OR REPLACE FUNCTION prune_task_usage_hourly_dirty(p_retention INTERVAL DEFAULT INTERVAL '7 days')
RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    v_deleted BIGINT;
BEGIN
    DELETE FROM task_usage_hourly_dirty
     WHERE enqueued_at < (SELECT s.watermark_at - p_retention
                            FROM task_usage_hourly_rollup_state s
                           WHERE s.id = 1);
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END;
$$;
