CREATE TABLE app_reminder_115 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    body TEXT,
    archived BOOLEAN NOT NULL DEFAULT false,
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_reminder_115_workspace ON app_reminder_115 (workspace_id);
