CREATE TABLE app_attachment_249 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    archived BOOLEAN NOT NULL DEFAULT false,
    payload JSONB NOT NULL DEFAULT '{}',
    body TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_attachment_249_workspace ON app_attachment_249 (workspace_id);
