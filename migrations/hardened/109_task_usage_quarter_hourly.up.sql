-- 109 fixes B10 (the data half; the read side chooses the table): UTC hours cannot express local days of zones
-- whose offset is not a whole hour (Asia/Kolkata +5:30, Asia/Kathmandu +5:45, Australia/Eucla +8:45, ...):
-- usage in the first minutes of a local day lands on the previous day, and a local-midnight cutoff drops the
-- whole straddling bucket. Every offset in use since 1980 is a multiple of 15 minutes, so a rollup keyed on the
-- UTC quarter hour is exact for every zone. task_usage_quarter_hourly has exactly the columns of
-- task_usage_hourly, with bucket_hour replaced by bucket_start (the start of the UTC 15-minute bucket). The window
-- (110) maintains it for the same dirty hourly keys: the four quarters of every touched hour are rebuilt from raw
-- rows and the emptied ones deleted. task_usage_hourly stays as it is for whole-hour zones.

-- The UTC quarter hour containing ts; immutable for the same reason as task_usage_hour_bucket (a zone-less
-- timestamp in UTC), and always inside the hour task_usage_hour_bucket(ts) names.
CREATE FUNCTION task_usage_quarter_bucket(ts TIMESTAMPTZ) RETURNS TIMESTAMPTZ
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT date_bin(INTERVAL '15 minutes', ts AT TIME ZONE 'UTC', TIMESTAMP '2000-01-01 00:00:00') AT TIME ZONE 'UTC'
$$;

CREATE TABLE task_usage_quarter_hourly (
    bucket_start       TIMESTAMPTZ NOT NULL,   -- start of the UTC 15-minute bucket
    workspace_id       UUID NOT NULL,
    runtime_id         UUID NOT NULL,
    agent_id           UUID NOT NULL,
    project_id         UUID,
    provider           TEXT NOT NULL,
    model              TEXT NOT NULL,
    input_tokens       BIGINT NOT NULL DEFAULT 0,
    output_tokens      BIGINT NOT NULL DEFAULT 0,
    cache_read_tokens  BIGINT NOT NULL DEFAULT 0,
    cache_write_tokens BIGINT NOT NULL DEFAULT 0,
    task_count         BIGINT NOT NULL DEFAULT 0,
    event_count        BIGINT NOT NULL DEFAULT 0,
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_task_usage_quarter_hourly_key
        UNIQUE NULLS NOT DISTINCT
        (bucket_start, workspace_id, runtime_id, agent_id, project_id, provider, model)
);

-- The same access paths as task_usage_hourly's, for the same three reports.
CREATE INDEX idx_task_usage_quarter_hourly_workspace_time
    ON task_usage_quarter_hourly (workspace_id, bucket_start DESC);

CREATE INDEX idx_task_usage_quarter_hourly_runtime_time
    ON task_usage_quarter_hourly (runtime_id, bucket_start DESC);

CREATE INDEX idx_task_usage_quarter_hourly_workspace_agent_time
    ON task_usage_quarter_hourly (workspace_id, agent_id, bucket_start DESC);

CREATE INDEX idx_task_usage_quarter_hourly_workspace_project_time
    ON task_usage_quarter_hourly (workspace_id, project_id, bucket_start DESC)
    WHERE project_id IS NOT NULL;

-- Initial contents: built once from the raw rows as they stand (a one-off pass over task_usage, like the
-- backfill's; ticks stay incremental). Rows written meanwhile carry changed_xid (108) and are rebuilt by the
-- first tick.
INSERT INTO task_usage_quarter_hourly
       (bucket_start, workspace_id, runtime_id, agent_id, project_id, provider, model,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, task_count, event_count, updated_at)
SELECT task_usage_quarter_bucket(u.created_at), ag.workspace_id, t.runtime_id, t.agent_id, iss.project_id,
       u.provider, u.model,
       sum(u.input_tokens), sum(u.output_tokens), sum(u.cache_read_tokens), sum(u.cache_write_tokens),
       count(DISTINCT u.task_id), count(*), now()
  FROM task_usage u
  JOIN agent_task_queue t ON t.id = u.task_id
  JOIN agent ag ON ag.id = t.agent_id
  LEFT JOIN issue iss ON iss.id = t.issue_id
 WHERE t.runtime_id IS NOT NULL
 GROUP BY 1, 2, 3, 4, 5, 6, 7;
