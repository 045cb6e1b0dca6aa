CREATE TABLE app_mention_143 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    body TEXT,
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    due_at TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_mention_143_workspace ON app_mention_143 (workspace_id);
