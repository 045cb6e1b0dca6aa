CREATE TABLE app_notification_383 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    archived BOOLEAN NOT NULL DEFAULT false,
    payload JSONB NOT NULL DEFAULT '{}',
    body TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_notification_383_workspace ON app_notification_383 (workspace_id);
