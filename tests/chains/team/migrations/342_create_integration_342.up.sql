CREATE TABLE app_integration_342 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    body TEXT,
    title TEXT NOT NULL DEFAULT '',
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_integration_342_workspace ON app_integration_342 (workspace_id);
