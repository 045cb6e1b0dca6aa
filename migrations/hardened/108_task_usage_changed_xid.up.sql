-- 108 fixes B13 and lays the ground for the B4/B9 fix of 110 and 112.
-- B13: nothing fired on UPDATE of task_usage. Changing provider, model, created_at or task_id left the old key's
-- bucket stale (only the new key was found, and only if updated_at was bumped), and an UPDATE that did not bump
-- updated_at was invisible to the watermark altogether.
-- B4/B9: updated_at is the writer's transaction START, so a writer that commits after a tick has moved the
-- watermark past that instant is never looked at again.
-- Both come down to "the pipeline cannot tell which rows changed since it last looked". From here on every insert
-- and update of task_usage (the application's upsert, COPY, any UPDATE, bumping updated_at or not) stamps
-- changed_xid with the writing transaction's id, and the tick (110, 112) rediscovers every row whose changed_xid
-- was not yet visible in the snapshot the previous tick started from. An UPDATE that changes the row's key also
-- enqueues the OLD key (the NEW one is found through changed_xid).

-- Nullable and without a default: adding it is a catalogue change only, and rows written before this migration
-- keep NULL (they are covered by the updated_at watermark as before). The index leaves those out.
ALTER TABLE task_usage ADD COLUMN changed_xid XID8;

CREATE INDEX idx_task_usage_changed_xid ON task_usage (changed_xid) WHERE changed_xid IS NOT NULL;

CREATE FUNCTION task_usage_hourly_track_change() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    NEW.changed_xid := pg_current_xact_id();

    -- A change of any column the bucket depends on: the row leaves its OLD bucket, which nothing else would
    -- revisit. Enqueue that key as the usage-delete trigger would (only when the task has a runtime).
    IF TG_OP = 'UPDATE'
       AND (   NEW.task_id IS DISTINCT FROM OLD.task_id
            OR NEW.provider IS DISTINCT FROM OLD.provider
            OR NEW.model IS DISTINCT FROM OLD.model
            OR NEW.created_at IS DISTINCT FROM OLD.created_at) THEN
        INSERT INTO task_usage_hourly_dirty AS q
               (bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model)
        SELECT task_usage_hour_bucket(OLD.created_at), ag.workspace_id, t.runtime_id, t.agent_id,
               iss.project_id, OLD.provider, OLD.model
          FROM agent_task_queue t
          JOIN agent ag ON ag.id = t.agent_id
          LEFT JOIN issue iss ON iss.id = t.issue_id
         WHERE t.id = OLD.task_id
           AND t.runtime_id IS NOT NULL
        ON CONFLICT ON CONSTRAINT uq_task_usage_hourly_dirty_key DO UPDATE
           SET enqueued_at = greatest(q.enqueued_at, EXCLUDED.enqueued_at);
    END IF;

    RETURN NEW;
END;
$$;

CREATE TRIGGER trg_task_usage_track_change
    BEFORE INSERT OR UPDATE ON task_usage
    FOR EACH ROW EXECUTE FUNCTION task_usage_hourly_track_change();

-- The snapshot the next tick compares changed_xid with. This migration holds task_usage's ACCESS EXCLUSIVE lock
-- (ALTER TABLE above) until it commits, so the snapshot taken here splits writers cleanly: those visible in it
-- committed before the column existed, the rest run the trigger above and look new to the first tick.
ALTER TABLE task_usage_hourly_rollup_state ADD COLUMN last_snapshot PG_SNAPSHOT;

UPDATE task_usage_hourly_rollup_state
   SET last_snapshot = pg_current_snapshot()
 WHERE id = 1;
