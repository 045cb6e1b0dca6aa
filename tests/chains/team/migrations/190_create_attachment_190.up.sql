CREATE TABLE app_attachment_190 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    body TEXT,
    payload JSONB NOT NULL DEFAULT '{}',
    due_at TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_attachment_190_workspace ON app_attachment_190 (workspace_id);
