CREATE TABLE app_digest_285 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    payload JSONB NOT NULL DEFAULT '{}',
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    due_at TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_digest_285_workspace ON app_digest_285 (workspace_id);
