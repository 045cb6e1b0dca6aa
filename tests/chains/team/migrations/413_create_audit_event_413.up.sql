CREATE TABLE app_audit_event_413 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    title TEXT NOT NULL DEFAULT '',
    body TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_audit_event_413_workspace ON app_audit_event_413 (workspace_id);
