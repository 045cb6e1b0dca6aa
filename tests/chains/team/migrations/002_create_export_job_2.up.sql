CREATE TABLE app_export_job_2 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    position INTEGER NOT NULL DEFAULT 0,
    body TEXT,
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_export_job_2_workspace ON app_export_job_2 (workspace_id);
