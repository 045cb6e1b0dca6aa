CREATE TABLE app_invite_97 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    due_at TIMESTAMPTZ,
    body TEXT,
    archived BOOLEAN NOT NULL DEFAULT false,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_invite_97_workspace ON app_invite_97 (workspace_id);
