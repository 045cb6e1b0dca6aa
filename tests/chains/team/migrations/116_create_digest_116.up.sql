CREATE TABLE app_digest_116 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    position INTEGER NOT NULL DEFAULT 0,
    due_at TIMESTAMPTZ,
    title TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_digest_116_workspace ON app_digest_116 (workspace_id);
