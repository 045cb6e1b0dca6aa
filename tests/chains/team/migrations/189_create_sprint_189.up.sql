CREATE TABLE app_sprint_189 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    due_at TIMESTAMPTZ,
    position INTEGER NOT NULL DEFAULT 0,
    body TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_sprint_189_workspace ON app_sprint_189 (workspace_id);
