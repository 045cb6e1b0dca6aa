CREATE TABLE app_sso_config_63 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    payload JSONB NOT NULL DEFAULT '{}',
    due_at TIMESTAMPTZ,
    archived BOOLEAN NOT NULL DEFAULT false,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_sso_config_63_workspace ON app_sso_config_63 (workspace_id);
