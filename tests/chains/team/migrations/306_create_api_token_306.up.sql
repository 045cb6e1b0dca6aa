CREATE TABLE app_api_token_306 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    archived BOOLEAN NOT NULL DEFAULT false,
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    payload JSONB NOT NULL DEFAULT '{}',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_api_token_306_workspace ON app_api_token_306 (workspace_id);
