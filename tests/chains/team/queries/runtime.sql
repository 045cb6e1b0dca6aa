-- The team's runtime queries (sqlc, package runtime): the daily-by-runtime report beside a query that is none.

-- name: GetRuntime :one
SELECT id, name, status FROM agent_runtime WHERE id = $1;

-- name: RuntimeDailyUsageWithCost :many
SELECT DATE(bucket_hour AT TIME ZONE @tz::text) AS day, lower(provider) AS provider, model,
       sum(input_tokens)::bigint AS input, sum(output_tokens)::bigint AS output,
       sum(cache_read_tokens)::bigint AS cache_read, sum(cache_write_tokens)::bigint AS cache_write,
       sum(cost_usd_ticks)::bigint AS cost_ticks,
       sum(uncosted_cache_read_tokens)::bigint AS uncosted_cache_read,
       sum(uncosted_cache_write_tokens)::bigint AS uncosted_cache_write
  FROM task_usage_hourly
 WHERE runtime_id = $1
   AND bucket_hour >= @since::timestamptz
 GROUP BY 1, 2, 3
 ORDER BY 1, 2, 3;
