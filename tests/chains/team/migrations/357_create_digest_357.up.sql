CREATE TABLE app_digest_357 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    archived BOOLEAN NOT NULL DEFAULT false,
    title TEXT NOT NULL DEFAULT '',
    due_at TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_digest_357_workspace ON app_digest_357 (workspace_id);
