CREATE TABLE app_sso_config_151 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    due_at TIMESTAMPTZ,
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    position INTEGER NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_sso_config_151_workspace ON app_sso_config_151 (workspace_id);
