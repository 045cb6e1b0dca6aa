-- The base tables exactly as pipeline.md §1 describes them, written from that text alone and nothing else:
-- the columns the application may write. created_at and updated_at on "user", workspace, agent_runtime, agent,
-- project and issue; created_at only on agent_task_queue; task_usage as listed.
CREATE TABLE workspace (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL, slug text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE "user" (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL, email text NOT NULL UNIQUE,
    timezone text, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE agent_runtime (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspace ON DELETE CASCADE, name text NOT NULL,
    runtime_mode text NOT NULL, provider text NOT NULL, daemon_id text,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, daemon_id, provider));
CREATE TABLE agent (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspace ON DELETE CASCADE, name text NOT NULL,
    runtime_mode text NOT NULL, runtime_id uuid NOT NULL REFERENCES agent_runtime ON DELETE RESTRICT,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, name));
CREATE TABLE project (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspace ON DELETE CASCADE, title text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE issue (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspace ON DELETE CASCADE, title text NOT NULL,
    creator_type text NOT NULL, creator_id uuid NOT NULL, number int NOT NULL DEFAULT 0,
    project_id uuid REFERENCES project ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, number));
CREATE TABLE agent_task_queue (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id uuid NOT NULL REFERENCES agent ON DELETE CASCADE,
    runtime_id uuid NOT NULL REFERENCES agent_runtime ON DELETE CASCADE,
    issue_id uuid REFERENCES issue ON DELETE CASCADE, status text NOT NULL DEFAULT 'queued',
    created_at timestamptz NOT NULL DEFAULT now(),
    dispatched_at timestamptz, started_at timestamptz, completed_at timestamptz);
CREATE TABLE task_usage (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    task_id uuid NOT NULL REFERENCES agent_task_queue ON DELETE CASCADE, provider text NOT NULL DEFAULT '',
    model text NOT NULL, input_tokens bigint NOT NULL DEFAULT 0, output_tokens bigint NOT NULL DEFAULT 0,
    cache_read_tokens bigint NOT NULL DEFAULT 0, cache_write_tokens bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz DEFAULT now(),
    UNIQUE (task_id, provider, model));
