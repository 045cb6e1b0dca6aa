CREATE TABLE app_import_job_40 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    body TEXT,
    title TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_import_job_40_workspace ON app_import_job_40 (workspace_id);
