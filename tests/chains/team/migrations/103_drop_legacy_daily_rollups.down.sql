-- Reverts 103: recreates the legacy daily rollups exactly as 000 defines them. The tables come back empty (the
-- usage written meanwhile is not replayed into them), and no cron job is rescheduled.

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
