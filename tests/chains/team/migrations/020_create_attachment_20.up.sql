CREATE TABLE app_attachment_20 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    body TEXT,
    payload JSONB NOT NULL DEFAULT '{}',
    title TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_attachment_20_workspace ON app_attachment_20 (workspace_id);
