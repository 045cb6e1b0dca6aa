CREATE TABLE issue (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    number       INTEGER NOT NULL DEFAULT 0,
    title        TEXT NOT NULL,
    creator_type TEXT NOT NULL CHECK (creator_type IN ('member', 'agent')),
    creator_id   UUID NOT NULL,
    project_id   UUID REFERENCES project (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, number)
);

CREATE INDEX idx_issue_project ON issue (project_id);
