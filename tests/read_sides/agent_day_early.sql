-- faithful.sql with one regression (issue 36): the by-agent query reads one day before the cutoff the application
-- hands it. Its window then takes in a day the report must not show — visible only when a window's cutoff falls
-- inside the data (tests/test_read_side_windows.py).

-- name: WorkspaceDailyUsage :many
SELECT DATE(bucket_hour AT TIME ZONE @tz) AS date, lower(provider) AS provider, model,
       sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
       sum(cache_read_tokens)::bigint AS cache_read_tokens, sum(cache_write_tokens)::bigint AS cache_write_tokens,
       sum(task_count)::bigint AS task_count
  FROM task_usage_hourly
 WHERE workspace_id = @workspace_id AND bucket_hour >= @cutoff
   AND (sqlc.narg('project_id')::uuid IS NULL OR project_id = sqlc.narg('project_id')::uuid)
 GROUP BY DATE(bucket_hour AT TIME ZONE @tz), lower(provider), model
 ORDER BY DATE(bucket_hour AT TIME ZONE @tz), lower(provider), model;

-- name: WorkspaceUsageByAgent :many
SELECT agent_id, lower(provider) AS provider, model,
       sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
       sum(cache_read_tokens)::bigint AS cache_read_tokens, sum(cache_write_tokens)::bigint AS cache_write_tokens,
       sum(task_count)::bigint AS task_count
  FROM task_usage_hourly
 WHERE workspace_id = @workspace_id AND bucket_hour >= @cutoff::timestamptz - interval '1 day'
   AND (sqlc.narg('project_id')::uuid IS NULL OR project_id = sqlc.narg('project_id')::uuid)
 GROUP BY agent_id, lower(provider), model
 ORDER BY agent_id, lower(provider), model;

-- name: RuntimeDailyUsage :many
SELECT DATE(bucket_hour AT TIME ZONE @tz) AS date, lower(provider) AS provider, model,
       sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
       sum(cache_read_tokens)::bigint AS cache_read_tokens, sum(cache_write_tokens)::bigint AS cache_write_tokens,
       sum(task_count)::bigint AS task_count
  FROM task_usage_hourly
 WHERE runtime_id = @runtime_id AND bucket_hour >= @cutoff
 GROUP BY DATE(bucket_hour AT TIME ZONE @tz), lower(provider), model
 ORDER BY DATE(bucket_hour AT TIME ZONE @tz), lower(provider), model;
