CREATE TABLE app_digest_387 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    payload JSONB NOT NULL DEFAULT '{}',
    position INTEGER NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_digest_387_workspace ON app_digest_387 (workspace_id);
