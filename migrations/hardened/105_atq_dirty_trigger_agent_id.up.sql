-- 105 fixes B12: agent_task_queue.agent_id was left out of the task trigger's column list on the strength of a
-- documented invariant ("agent_id is immutable") that nothing enforces. Changing it left the old agent's buckets
-- stale and the new agent's missing. The trigger now also fires on agent_id, and a change of agent_id is treated
-- like a change of runtime_id or issue_id: the usage keys are enqueued once as they were (OLD.agent_id, the OLD
-- agent's workspace) and once as they become (NEW.agent_id, the NEW agent's workspace).

CREATE OR REPLACE FUNCTION task_usage_hourly_dirty_on_task() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    -- An UPDATE that leaves every key column alone changes no bucket.
    IF TG_OP = 'UPDATE'
       AND NEW.agent_id IS NOT DISTINCT FROM OLD.agent_id
       AND NEW.runtime_id IS NOT DISTINCT FROM OLD.runtime_id
       AND NEW.issue_id IS NOT DISTINCT FROM OLD.issue_id THEN
        RETURN NEW;
    END IF;

    -- One side per version of the task row: OLD always, NEW only for an UPDATE. The usage rows are read by
    -- OLD.id (the task's id never changes: task_usage references it without ON UPDATE). UNION removes the
    -- duplicates, which ON CONFLICT DO UPDATE would refuse (a row cannot be affected twice).
    INSERT INTO task_usage_hourly_dirty AS q
           (bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model)
    SELECT task_usage_hour_bucket(u.created_at), ag.workspace_id, v.runtime_id, v.agent_id,
           iss.project_id, u.provider, u.model
      FROM (VALUES (OLD.agent_id, OLD.runtime_id, OLD.issue_id)) AS v (agent_id, runtime_id, issue_id)
      JOIN task_usage u ON u.task_id = OLD.id
      JOIN agent ag ON ag.id = v.agent_id
      LEFT JOIN issue iss ON iss.id = v.issue_id
     WHERE v.runtime_id IS NOT NULL
    UNION
    SELECT task_usage_hour_bucket(u.created_at), ag.workspace_id, NEW.runtime_id, NEW.agent_id,
           iss.project_id, u.provider, u.model
      FROM task_usage u
      JOIN agent ag ON ag.id = NEW.agent_id
      LEFT JOIN issue iss ON iss.id = NEW.issue_id
     WHERE TG_OP = 'UPDATE'
       AND u.task_id = OLD.id
       AND NEW.runtime_id IS NOT NULL
    ON CONFLICT ON CONSTRAINT uq_task_usage_hourly_dirty_key DO UPDATE
       SET enqueued_at = greatest(q.enqueued_at, EXCLUDED.enqueued_at);

    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;

-- agent_id joins runtime_id and issue_id in the column list (the function above already compares all three).
DROP TRIGGER trg_atq_dirty_hourly ON agent_task_queue;
CREATE TRIGGER trg_atq_dirty_hourly
    BEFORE UPDATE OF runtime_id, issue_id, agent_id OR DELETE ON agent_task_queue
    FOR EACH ROW EXECUTE FUNCTION task_usage_hourly_dirty_on_task();
