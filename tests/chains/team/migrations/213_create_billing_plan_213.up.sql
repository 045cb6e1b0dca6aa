CREATE TABLE app_billing_plan_213 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    title TEXT NOT NULL DEFAULT '',
    owner_id UUID REFERENCES "user" (id) ON DELETE SET NULL,
    body TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_billing_plan_213_workspace ON app_billing_plan_213 (workspace_id);
