-- Condensed base schema as it stood just before migration 100: only the tables the token-usage rollup touches
-- (pipeline.md §1), plus the two legacy DATE-bucket rollups that migration 103 drops.
-- "user" has no timezone column yet (100 adds it); agent_runtime still carries its timezone (104 drops it).

CREATE TABLE "user" (
    id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name       TEXT NOT NULL,
    email      TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE workspace (
    id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name       TEXT NOT NULL,
    slug       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE agent_runtime (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    daemon_id    TEXT,
    name         TEXT NOT NULL,
    runtime_mode TEXT NOT NULL CHECK (runtime_mode IN ('local', 'cloud')),
    provider     TEXT NOT NULL,
    -- IANA zone the legacy per-runtime daily rollup buckets in; dropped by 104.
    timezone     TEXT NOT NULL DEFAULT 'UTC',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, daemon_id, provider)
);

CREATE TABLE agent (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    runtime_mode TEXT NOT NULL CHECK (runtime_mode IN ('local', 'cloud')),
    runtime_id   UUID NOT NULL REFERENCES agent_runtime (id) ON DELETE RESTRICT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, name)
);

CREATE INDEX idx_agent_runtime_id ON agent (runtime_id);

CREATE TABLE project (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_project_workspace ON project (workspace_id);

CREATE TABLE issue (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    number       INTEGER NOT NULL DEFAULT 0,
    title        TEXT NOT NULL,
    creator_type TEXT NOT NULL CHECK (creator_type IN ('member', 'agent')),
    creator_id   UUID NOT NULL,
    project_id   UUID REFERENCES project (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, number)
);

CREATE INDEX idx_issue_project ON issue (project_id);

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

-- One row per (task, provider, model); the application upserts it, overwriting the counters and setting
-- updated_at = now(). updated_at is nullable because rows older than the column may hold NULL.
CREATE TABLE task_usage (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    task_id            UUID NOT NULL REFERENCES agent_task_queue (id) ON DELETE CASCADE,
    provider           TEXT NOT NULL DEFAULT '',
    model              TEXT NOT NULL,
    input_tokens       BIGINT NOT NULL DEFAULT 0,
    output_tokens      BIGINT NOT NULL DEFAULT 0,
    cache_read_tokens  BIGINT NOT NULL DEFAULT 0,
    cache_write_tokens BIGINT NOT NULL DEFAULT 0,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ DEFAULT now(),
    UNIQUE (task_id, provider, model)
);

CREATE INDEX idx_task_usage_created_at ON task_usage (created_at);
CREATE INDEX idx_task_usage_updated_at ON task_usage (updated_at);

-- ---------------------------------------------------------------------------------------------------------
-- Legacy rollups (dropped by 103). Each is a DATE-bucket table kept by an AFTER trigger on task_usage that adds
-- the change in the counters; a single-row state table stands in for the old worker's watermark.
-- ---------------------------------------------------------------------------------------------------------

-- Per runtime, day taken in the runtime's own timezone.
CREATE TABLE task_usage_daily (
    bucket_date        DATE NOT NULL,
    runtime_id         UUID NOT NULL,
    provider           TEXT NOT NULL,
    model              TEXT NOT NULL,
    input_tokens       BIGINT NOT NULL DEFAULT 0,
    output_tokens      BIGINT NOT NULL DEFAULT 0,
    cache_read_tokens  BIGINT NOT NULL DEFAULT 0,
    cache_write_tokens BIGINT NOT NULL DEFAULT 0,
    event_count        BIGINT NOT NULL DEFAULT 0,
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_task_usage_daily_key UNIQUE (bucket_date, runtime_id, provider, model)
);

CREATE TABLE task_usage_rollup_state (
    id           SMALLINT PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    watermark_at TIMESTAMPTZ NOT NULL DEFAULT '1970-01-01 00:00:00+00'
);
INSERT INTO task_usage_rollup_state (id) VALUES (1);

-- Per workspace, day taken in UTC.
CREATE TABLE task_usage_dashboard_daily (
    bucket_date        DATE NOT NULL,
    workspace_id       UUID NOT NULL,
    project_id         UUID,
    provider           TEXT NOT NULL,
    model              TEXT NOT NULL,
    input_tokens       BIGINT NOT NULL DEFAULT 0,
    output_tokens      BIGINT NOT NULL DEFAULT 0,
    cache_read_tokens  BIGINT NOT NULL DEFAULT 0,
    cache_write_tokens BIGINT NOT NULL DEFAULT 0,
    event_count        BIGINT NOT NULL DEFAULT 0,
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_task_usage_dashboard_daily_key
        UNIQUE NULLS NOT DISTINCT (bucket_date, workspace_id, project_id, provider, model)
);

CREATE TABLE task_usage_dashboard_rollup_state (
    id           SMALLINT PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    watermark_at TIMESTAMPTZ NOT NULL DEFAULT '1970-01-01 00:00:00+00'
);
INSERT INTO task_usage_dashboard_rollup_state (id) VALUES (1);

-- On INSERT the new counters are added (OLD is NULL there); on UPDATE the difference NEW - OLD is added to
-- NEW's bucket (the application never changes task_id, provider, model or created_at).
CREATE FUNCTION task_usage_daily_apply() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_usage_daily AS d
           (bucket_date, runtime_id, provider, model,
            input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, event_count)
    SELECT (NEW.created_at AT TIME ZONE rt.timezone)::DATE, t.runtime_id, NEW.provider, NEW.model,
           NEW.input_tokens - coalesce(OLD.input_tokens, 0),
           NEW.output_tokens - coalesce(OLD.output_tokens, 0),
           NEW.cache_read_tokens - coalesce(OLD.cache_read_tokens, 0),
           NEW.cache_write_tokens - coalesce(OLD.cache_write_tokens, 0),
           CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE 0 END
      FROM agent_task_queue t
      JOIN agent_runtime rt ON rt.id = t.runtime_id
     WHERE t.id = NEW.task_id
    ON CONFLICT ON CONSTRAINT uq_task_usage_daily_key DO UPDATE
       SET input_tokens       = d.input_tokens + EXCLUDED.input_tokens,
           output_tokens      = d.output_tokens + EXCLUDED.output_tokens,
           cache_read_tokens  = d.cache_read_tokens + EXCLUDED.cache_read_tokens,
           cache_write_tokens = d.cache_write_tokens + EXCLUDED.cache_write_tokens,
           event_count        = d.event_count + EXCLUDED.event_count,
           updated_at         = now();
    RETURN NULL;
END;
$$;

CREATE TRIGGER trg_task_usage_daily
    AFTER INSERT OR UPDATE ON task_usage
    FOR EACH ROW EXECUTE FUNCTION task_usage_daily_apply();

CREATE FUNCTION task_usage_dashboard_daily_apply() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_usage_dashboard_daily AS d
           (bucket_date, workspace_id, project_id, provider, model,
            input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, event_count)
    SELECT (NEW.created_at AT TIME ZONE 'UTC')::DATE, a.workspace_id, i.project_id, NEW.provider, NEW.model,
           NEW.input_tokens - coalesce(OLD.input_tokens, 0),
           NEW.output_tokens - coalesce(OLD.output_tokens, 0),
           NEW.cache_read_tokens - coalesce(OLD.cache_read_tokens, 0),
           NEW.cache_write_tokens - coalesce(OLD.cache_write_tokens, 0),
           CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE 0 END
      FROM agent_task_queue t
      JOIN agent a ON a.id = t.agent_id
      LEFT JOIN issue i ON i.id = t.issue_id
     WHERE t.id = NEW.task_id
    ON CONFLICT ON CONSTRAINT uq_task_usage_dashboard_daily_key DO UPDATE
       SET input_tokens       = d.input_tokens + EXCLUDED.input_tokens,
           output_tokens      = d.output_tokens + EXCLUDED.output_tokens,
           cache_read_tokens  = d.cache_read_tokens + EXCLUDED.cache_read_tokens,
           cache_write_tokens = d.cache_write_tokens + EXCLUDED.cache_write_tokens,
           event_count        = d.event_count + EXCLUDED.event_count,
           updated_at         = now();
    RETURN NULL;
END;
$$;

CREATE TRIGGER trg_task_usage_dashboard_daily
    AFTER INSERT OR UPDATE ON task_usage
    FOR EACH ROW EXECUTE FUNCTION task_usage_dashboard_daily_apply();
