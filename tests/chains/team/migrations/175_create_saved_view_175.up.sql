CREATE TABLE app_saved_view_175 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    payload JSONB NOT NULL DEFAULT '{}',
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    position INTEGER NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_saved_view_175_workspace ON app_saved_view_175 (workspace_id);
