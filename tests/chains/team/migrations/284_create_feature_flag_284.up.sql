CREATE TABLE app_feature_flag_284 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    title TEXT NOT NULL DEFAULT '',
    archived BOOLEAN NOT NULL DEFAULT false,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_feature_flag_284_workspace ON app_feature_flag_284 (workspace_id);
