-- One row per task. issue_id is NULL for chat tasks.
CREATE TABLE agent_task_queue (
    id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id   UUID NOT NULL REFERENCES agent (id) ON DELETE CASCADE,
    runtime_id UUID NOT NULL REFERENCES agent_runtime (id) ON DELETE CASCADE,
    issue_id   UUID REFERENCES issue (id) ON DELETE CASCADE,
    status     TEXT NOT NULL DEFAULT 'queued'
               CHECK (status IN ('queued', 'dispatched', 'running', 'completed', 'failed', 'cancelled')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()  -- and no updated_at: the real table has none (pipeline.md §1)
);

-- An agent holds at most one not-yet-running task per issue.
CREATE UNIQUE INDEX uq_agent_task_queue_pending_per_issue_agent
    ON agent_task_queue (issue_id, agent_id)
    WHERE status IN ('queued', 'dispatched');

CREATE INDEX idx_agent_task_queue_agent ON agent_task_queue (agent_id);
CREATE INDEX idx_agent_task_queue_runtime ON agent_task_queue (runtime_id);
CREATE INDEX idx_agent_task_queue_issue ON agent_task_queue (issue_id);
