CREATE TABLE app_reminder_281 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    position INTEGER NOT NULL DEFAULT 0,
    due_at TIMESTAMPTZ,
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_reminder_281_workspace ON app_reminder_281 (workspace_id);
