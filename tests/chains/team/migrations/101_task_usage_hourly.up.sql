-- 101: the UTC-hourly rollup of task_usage that replaces both daily rollups, with its single-row state table
-- and the dirty queue the triggers of 102 feed. No foreign keys: rows are keyed by value only.
-- Hour grain cannot express local days of zones whose offset is not a whole hour (B10, structural).
--
-- Rollup key: (bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model). project_id is
-- NULL for usage without a project; NULLS NOT DISTINCT (PG >= 15) lets ON CONFLICT treat that bucket like any
-- other.
CREATE TABLE task_usage_hourly (
    bucket_hour        TIMESTAMPTZ NOT NULL,   -- start of the UTC hour
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
    CONSTRAINT uq_task_usage_hourly_key
        UNIQUE NULLS NOT DISTINCT
        (bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model)
);

-- Workspace dashboard trend, newest hours first.
CREATE INDEX idx_task_usage_hourly_workspace_time
    ON task_usage_hourly (workspace_id, bucket_hour DESC);

-- Runtime detail page.
CREATE INDEX idx_task_usage_hourly_runtime_time
    ON task_usage_hourly (runtime_id, bucket_hour DESC);

-- Dashboard breakdown by agent.
CREATE INDEX idx_task_usage_hourly_workspace_agent_time
    ON task_usage_hourly (workspace_id, agent_id, bucket_hour DESC);

-- Dashboard breakdown by project; rows without a project are not shown there, so they stay out of the index.
CREATE INDEX idx_task_usage_hourly_workspace_project_time
    ON task_usage_hourly (workspace_id, project_id, bucket_hour DESC)
    WHERE project_id IS NOT NULL;

-- Watermark and last-run bookkeeping of the tick. The id = 1 check keeps it to exactly one row.
CREATE TABLE task_usage_hourly_rollup_state (
    id                   SMALLINT PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    watermark_at         TIMESTAMPTZ NOT NULL DEFAULT '1970-01-01 00:00:00+00',
    last_run_started_at  TIMESTAMPTZ,
    last_run_finished_at TIMESTAMPTZ,
    last_run_rows        BIGINT NOT NULL DEFAULT 0,
    last_error           TEXT
);
INSERT INTO task_usage_hourly_rollup_state (id) VALUES (1) ON CONFLICT DO NOTHING;

-- Keys the updated_at watermark cannot discover: usage deletes (directly or by cascade from a task) and
-- re-attribution of existing usage (task runtime/issue change, issue project change). bucket_hour is computed
-- the same way as in the rollup, so queue keys and rollup keys compare byte for byte. The window drains rows
-- it has passed, and prune_task_usage_hourly_dirty (102) bounds whatever is left.
CREATE TABLE task_usage_hourly_dirty (
    bucket_hour  TIMESTAMPTZ NOT NULL,
    workspace_id UUID NOT NULL,
    runtime_id   UUID NOT NULL,
    agent_id     UUID NOT NULL,
    project_id   UUID,
    provider     TEXT NOT NULL,
    model        TEXT NOT NULL,
    enqueued_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_task_usage_hourly_dirty_key
        UNIQUE NULLS NOT DISTINCT
        (bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model)
);

-- Serves both the window's drain and the prune, which select on enqueued_at.
CREATE INDEX idx_task_usage_hourly_dirty_enqueued_at
    ON task_usage_hourly_dirty (enqueued_at);
