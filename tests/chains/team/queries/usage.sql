-- The team's dashboard queries (sqlc, package usage), as the application ships them: the daily-by-workspace and
-- by-agent reports beside queries that are no reports. Parameters mix sqlc's forms — positional $1 with
-- sqlc.arg/@/sqlc.narg — and the window's start is the application's `since`; the read-side mapping
-- (../read_side.toml) binds them to the bench's values without a line of this file changing.

-- name: GetWorkspace :one
SELECT id, name, slug, created_at
  FROM workspace
 WHERE slug = sqlc.arg('slug');

-- name: ListAgents :many
-- (reads reactions, a table of the team's own chain the bench never fills)
SELECT a.id, a.name, a.runtime_mode, count(r.id) AS reactions
  FROM agent a
  LEFT JOIN app_reaction_430 r ON r.workspace_id = a.workspace_id AND r.owner_id = @owner_id
 WHERE a.workspace_id = $1
 GROUP BY a.id, a.name, a.runtime_mode
 ORDER BY a.name;

-- name: WorkspaceDailyUsageWithCost :many
SELECT DATE(bucket_hour AT TIME ZONE sqlc.arg('tz')::text) AS day, lower(provider) AS provider, model,
       sum(input_tokens)::bigint AS input, sum(output_tokens)::bigint AS output,
       sum(cache_read_tokens)::bigint AS cache_read, sum(cache_write_tokens)::bigint AS cache_write,
       sum(cost_usd_ticks)::bigint AS cost_ticks,
       sum(uncosted_input_tokens)::bigint AS uncosted_input, sum(uncosted_output_tokens)::bigint AS uncosted_output,
       sum(task_count)::bigint AS tasks
  FROM task_usage_hourly
 WHERE workspace_id = $1 AND bucket_hour >= sqlc.arg('since')::timestamptz
   AND (sqlc.narg('project_id')::uuid IS NULL OR project_id = sqlc.narg('project_id')::uuid)
 GROUP BY 1, 2, 3
 ORDER BY 1, 2, 3;

-- name: WorkspaceUsageByAgentWithCost :many
SELECT agent_id AS agent, lower(provider) AS provider, model,
       sum(input_tokens)::bigint AS input, sum(output_tokens)::bigint AS output,
       sum(cache_read_tokens)::bigint AS cache_read, sum(cache_write_tokens)::bigint AS cache_write,
       sum(cost_usd_ticks)::bigint AS cost_ticks, sum(uncosted_input_tokens)::bigint AS uncosted_input,
       sum(task_count)::bigint AS tasks
  FROM task_usage_hourly
 WHERE workspace_id = $1 AND bucket_hour >= @since::timestamptz
   AND (sqlc.narg('project_id')::uuid IS NULL OR project_id = sqlc.narg('project_id')::uuid)
 GROUP BY 1, 2, 3
 ORDER BY 1, 2, 3;

-- name: CountWorkspaceReactions :one
SELECT count(*) FROM app_reaction_430 WHERE workspace_id = $1 AND created_at >= @since::timestamptz;
