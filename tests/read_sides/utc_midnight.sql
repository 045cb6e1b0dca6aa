-- local_midnight.sql with a mutant of the daily reports' cutoff: their window starts at the UTC midnight of the
-- cutoff's date, not at the viewer's local midnight. East of UTC that takes in hours before the window
-- (tests/test_read_sides.py).

-- name: WorkspaceDailyUsage :many
SELECT DATE(bucket_hour AT TIME ZONE @tz) AS date, lower(provider) AS provider, model,
       SUM(input_tokens)::bigint AS input_tokens, SUM(output_tokens)::bigint AS output_tokens,
       SUM(cache_read_tokens)::bigint AS cache_read_tokens, SUM(cache_write_tokens)::bigint AS cache_write_tokens,
       SUM(task_count)::bigint AS task_count
FROM task_usage_hourly
WHERE workspace_id = @workspace_id
  AND bucket_hour >= date_trunc('day', @cutoff::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;

-- name: WorkspaceUsageByAgent :many
SELECT agent_id, lower(provider) AS provider, model,
       SUM(input_tokens)::bigint AS input_tokens, SUM(output_tokens)::bigint AS output_tokens,
       SUM(cache_read_tokens)::bigint AS cache_read_tokens, SUM(cache_write_tokens)::bigint AS cache_write_tokens,
       SUM(task_count)::bigint AS task_count
FROM task_usage_hourly
WHERE workspace_id = @workspace_id AND bucket_hour >= @cutoff
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;

-- name: RuntimeDailyUsage :many
SELECT DATE(bucket_hour AT TIME ZONE @tz) AS date, lower(provider) AS provider, model,
       SUM(input_tokens)::bigint AS input_tokens, SUM(output_tokens)::bigint AS output_tokens,
       SUM(cache_read_tokens)::bigint AS cache_read_tokens, SUM(cache_write_tokens)::bigint AS cache_write_tokens,
       SUM(task_count)::bigint AS task_count
FROM task_usage_hourly
WHERE runtime_id = @runtime_id
  AND bucket_hour >= date_trunc('day', @cutoff::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;
