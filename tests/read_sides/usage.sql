-- The dashboard's usage queries, sqlc style: positional parameters and the application's own names for the
-- queries and their columns (mapped onto the bench's reports in tests/test_read_sides.py). A $9 or @x in a
-- comment, or in a string, is no parameter; nor is a ::cast.

-- name: ListDashboardUsageDaily :many
SELECT DATE(bucket_hour AT TIME ZONE $3::text) AS day, lower(provider) AS provider, model,
       SUM(input_tokens)::bigint AS input, SUM(output_tokens)::bigint AS output,
       SUM(cache_read_tokens)::bigint AS cache_read, SUM(cache_write_tokens)::bigint AS cache_write,
       SUM(task_count)::bigint AS tasks
FROM task_usage_hourly
WHERE workspace_id = $1 AND bucket_hour >= $2 AND model NOT LIKE '%@x $9%'
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;

-- name: ListDashboardUsageByAgent :many
SELECT agent_id AS agent, lower(provider) AS provider, model,
       SUM(input_tokens)::bigint AS input, SUM(output_tokens)::bigint AS output,
       SUM(cache_read_tokens)::bigint AS cache_read, SUM(cache_write_tokens)::bigint AS cache_write,
       SUM(task_count)::bigint AS tasks
FROM task_usage_hourly
WHERE workspace_id = $1 AND bucket_hour >= $2
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;

-- name: GetRuntimeUsage :many
SELECT DATE(bucket_hour AT TIME ZONE $2::text) AS day, lower(provider) AS provider, model,
       SUM(input_tokens)::bigint AS input, SUM(output_tokens)::bigint AS output,
       SUM(cache_read_tokens)::bigint AS cache_read, SUM(cache_write_tokens)::bigint AS cache_write,
       SUM(task_count)::bigint AS tasks
FROM task_usage_hourly
WHERE runtime_id = $1 AND bucket_hour >= $3
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;
