CREATE TABLE app_saved_view_66 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    archived BOOLEAN NOT NULL DEFAULT false,
    title TEXT NOT NULL DEFAULT '',
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_saved_view_66_workspace ON app_saved_view_66 (workspace_id);
