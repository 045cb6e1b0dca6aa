CREATE TABLE app_subscription_200 (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    due_at TIMESTAMPTZ,
    archived BOOLEAN NOT NULL DEFAULT false,
    body TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_app_subscription_200_workspace ON app_subscription_200 (workspace_id);
