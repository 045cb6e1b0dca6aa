CREATE TABLE app_api_token_319 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    due_at TIMESTAMPTZ,
    title TEXT NOT NULL DEFAULT '',
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_api_token_319_workspace ON app_api_token_319 (workspace_id);
