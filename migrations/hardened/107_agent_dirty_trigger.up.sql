-- 107 fixes B1: hard-deleting an agent (directly, or by cascade from its workspace) reached the agent's tasks and
-- usage rows only after the agent row was gone, so the task and usage triggers' joins to agent found nothing, no
-- key was enqueued and the agent's buckets stayed forever. A BEFORE DELETE trigger on agent now enqueues the keys
-- of every usage row of the agent's tasks while the agent, its tasks, their issues and the usage still exist
-- (workspace from the agent row itself, project from each task's issue).
-- The same trigger covers a change of agent.workspace_id, which the application does not make but the schema
-- allows: the keys are enqueued under the old and the new workspace, as the task trigger does for its columns.

CREATE FUNCTION task_usage_hourly_dirty_on_agent() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.workspace_id IS NOT DISTINCT FROM OLD.workspace_id THEN
        RETURN NEW;
    END IF;

    INSERT INTO task_usage_hourly_dirty AS q
           (bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model)
    SELECT DISTINCT task_usage_hour_bucket(u.created_at), side.workspace_id, t.runtime_id, t.agent_id,
           iss.project_id, u.provider, u.model
      FROM agent_task_queue t
      JOIN task_usage u ON u.task_id = t.id
      LEFT JOIN issue iss ON iss.id = t.issue_id
     CROSS JOIN (SELECT OLD.workspace_id
                 UNION
                 SELECT NEW.workspace_id WHERE TG_OP = 'UPDATE') AS side (workspace_id)
     WHERE t.agent_id = OLD.id
       AND t.runtime_id IS NOT NULL
    ON CONFLICT ON CONSTRAINT uq_task_usage_hourly_dirty_key DO UPDATE
       SET enqueued_at = greatest(q.enqueued_at, EXCLUDED.enqueued_at);

    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER trg_agent_dirty_hourly
    BEFORE UPDATE OF workspace_id OR DELETE ON agent
    FOR EACH ROW EXECUTE FUNCTION task_usage_hourly_dirty_on_agent();
