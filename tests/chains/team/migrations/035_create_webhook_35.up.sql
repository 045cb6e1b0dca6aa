CREATE TABLE app_webhook_35 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    archived BOOLEAN NOT NULL DEFAULT false,
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    body TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_webhook_35_workspace ON app_webhook_35 (workspace_id);
