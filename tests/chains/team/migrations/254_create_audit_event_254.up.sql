CREATE TABLE app_audit_event_254 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    body TEXT,
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    title TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_audit_event_254_workspace ON app_audit_event_254 (workspace_id);
