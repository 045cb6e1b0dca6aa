CREATE TABLE app_billing_plan_156 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    payload JSONB NOT NULL DEFAULT '{}',
    body TEXT,
    position INTEGER NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_billing_plan_156_workspace ON app_billing_plan_156 (workspace_id);
