-- 106 fixes B2: the two issue triggers keyed the enqueued workspace on the ISSUE's workspace_id, while the rollup
-- (window and every other trigger) keys it on the task's AGENT's workspace_id. The schema does not force the two
-- to agree, so for a task whose agent lives in another workspace than its issue, a project change or an issue
-- delete enqueued a key that matched no bucket and the real bucket stayed stale. Both triggers now join the
-- task's agent and take the workspace from there, like the rest of the pipeline.

-- Issue deletion: OLD still carries the project the issue's tasks were rolled up under (the cascade that deletes
-- the tasks runs after the issue row is gone); the agents still exist.
CREATE OR REPLACE FUNCTION task_usage_hourly_dirty_on_issue_delete() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_usage_hourly_dirty AS q
           (bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model)
    SELECT DISTINCT task_usage_hour_bucket(u.created_at), ag.workspace_id, t.runtime_id, t.agent_id,
           OLD.project_id, u.provider, u.model
      FROM agent_task_queue t
      JOIN agent ag ON ag.id = t.agent_id
      JOIN task_usage u ON u.task_id = t.id
     WHERE t.issue_id = OLD.id
       AND t.runtime_id IS NOT NULL
    ON CONFLICT ON CONSTRAINT uq_task_usage_hourly_dirty_key DO UPDATE
       SET enqueued_at = greatest(q.enqueued_at, EXCLUDED.enqueued_at);
    RETURN OLD;
END;
$$;

-- Project change (also ON DELETE SET NULL from a project delete): the issue's tasks under the old and the new
-- project, workspace from each task's agent.
CREATE OR REPLACE FUNCTION task_usage_hourly_dirty_on_issue_project() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.project_id IS NOT DISTINCT FROM OLD.project_id THEN
        RETURN NEW;
    END IF;

    INSERT INTO task_usage_hourly_dirty AS q
           (bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model)
    SELECT DISTINCT task_usage_hour_bucket(u.created_at), ag.workspace_id, t.runtime_id, t.agent_id,
           side.project_id, u.provider, u.model
      FROM agent_task_queue t
      JOIN agent ag ON ag.id = t.agent_id
      JOIN task_usage u ON u.task_id = t.id
     CROSS JOIN (VALUES (OLD.project_id), (NEW.project_id)) AS side (project_id)
     WHERE t.issue_id = NEW.id
       AND t.runtime_id IS NOT NULL
    ON CONFLICT ON CONSTRAINT uq_task_usage_hourly_dirty_key DO UPDATE
       SET enqueued_at = greatest(q.enqueued_at, EXCLUDED.enqueued_at);
    RETURN NEW;
END;
$$;
