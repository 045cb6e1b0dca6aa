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
