CREATE TABLE app_api_token_359 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    title TEXT NOT NULL DEFAULT '',
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    due_at TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_api_token_359_workspace ON app_api_token_359 (workspace_id);
