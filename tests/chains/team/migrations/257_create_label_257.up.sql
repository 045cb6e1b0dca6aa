CREATE TABLE app_label_257 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    payload JSONB NOT NULL DEFAULT '{}',
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    body TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_label_257_workspace ON app_label_257 (workspace_id);
