CREATE TABLE app_snippet_182 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    payload JSONB NOT NULL DEFAULT '{}',
    archived BOOLEAN NOT NULL DEFAULT false,
    title TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_snippet_182_workspace ON app_snippet_182 (workspace_id);
