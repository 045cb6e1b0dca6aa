-- The hardened read side: upstream's reports (faithful.sql), exact for every zone and never failing on a name.
-- - A name the application accepts that is no zone PostgreSQL has ("Local", "": Go's LoadLocation takes them for
--   the server's zone and UTC) is read as UTC (B11). Every other name the application accepts is an IANA zone.
-- - When the zone's UTC offset is not a whole hour somewhere in [cutoff, now), UTC hours cannot cut its days:
--   the reports read the exact 15-minute table instead (B10). The offsets are sampled every 6 hours from the
--   cutoff, and at the window's last second (no offset in the zone database lasts under 6 hours).
-- The three queries share their first two CTEs: a query file has no other way to share text.

-- name: WorkspaceDailyUsage :many
WITH zone AS (SELECT CASE WHEN @tz IN ('', 'Local') THEN 'UTC' ELSE @tz END AS name),
hourly AS (  -- whether every offset the zone uses in [cutoff, now) is a whole number of hours
  SELECT NOT EXISTS (
           SELECT 1
             FROM zone, (SELECT moment
                           FROM generate_series(@cutoff::timestamptz, @now::timestamptz, interval '6 hours') moment
                          WHERE moment < @now::timestamptz
                         UNION ALL
                         SELECT @now::timestamptz - interval '1 second'
                          WHERE @now::timestamptz > @cutoff::timestamptz) s
            WHERE mod(extract(epoch FROM (s.moment AT TIME ZONE zone.name) - (s.moment AT TIME ZONE 'UTC')),
                      3600) <> 0) AS yes
),
buckets AS (
  SELECT bucket_hour AS bucket_start, provider, model, input_tokens, output_tokens, cache_read_tokens,
         cache_write_tokens, task_count
    FROM task_usage_hourly
   WHERE (SELECT yes FROM hourly) AND workspace_id = @workspace_id AND bucket_hour >= @cutoff
     AND (sqlc.narg('project_id')::uuid IS NULL OR project_id = sqlc.narg('project_id')::uuid)
  UNION ALL
  SELECT bucket_start, provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, task_count
    FROM task_usage_quarter_hourly
   WHERE NOT (SELECT yes FROM hourly) AND workspace_id = @workspace_id AND bucket_start >= @cutoff
     AND (sqlc.narg('project_id')::uuid IS NULL OR project_id = sqlc.narg('project_id')::uuid)
)
SELECT DATE(bucket_start AT TIME ZONE zone.name) AS date, lower(provider) AS provider, model,
       sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
       sum(cache_read_tokens)::bigint AS cache_read_tokens, sum(cache_write_tokens)::bigint AS cache_write_tokens,
       sum(task_count)::bigint AS task_count
  FROM buckets, zone
 GROUP BY DATE(bucket_start AT TIME ZONE zone.name), lower(provider), model
 ORDER BY DATE(bucket_start AT TIME ZONE zone.name), lower(provider), model;

-- name: WorkspaceUsageByAgent :many
WITH zone AS (SELECT CASE WHEN @tz IN ('', 'Local') THEN 'UTC' ELSE @tz END AS name),
hourly AS (  -- whether every offset the zone uses in [cutoff, now) is a whole number of hours
  SELECT NOT EXISTS (
           SELECT 1
             FROM zone, (SELECT moment
                           FROM generate_series(@cutoff::timestamptz, @now::timestamptz, interval '6 hours') moment
                          WHERE moment < @now::timestamptz
                         UNION ALL
                         SELECT @now::timestamptz - interval '1 second'
                          WHERE @now::timestamptz > @cutoff::timestamptz) s
            WHERE mod(extract(epoch FROM (s.moment AT TIME ZONE zone.name) - (s.moment AT TIME ZONE 'UTC')),
                      3600) <> 0) AS yes
),
buckets AS (
  SELECT agent_id, provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, task_count
    FROM task_usage_hourly
   WHERE (SELECT yes FROM hourly) AND workspace_id = @workspace_id AND bucket_hour >= @cutoff
     AND (sqlc.narg('project_id')::uuid IS NULL OR project_id = sqlc.narg('project_id')::uuid)
  UNION ALL
  SELECT agent_id, provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, task_count
    FROM task_usage_quarter_hourly
   WHERE NOT (SELECT yes FROM hourly) AND workspace_id = @workspace_id AND bucket_start >= @cutoff
     AND (sqlc.narg('project_id')::uuid IS NULL OR project_id = sqlc.narg('project_id')::uuid)
)
SELECT agent_id, lower(provider) AS provider, model,
       sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
       sum(cache_read_tokens)::bigint AS cache_read_tokens, sum(cache_write_tokens)::bigint AS cache_write_tokens,
       sum(task_count)::bigint AS task_count
  FROM buckets
 GROUP BY agent_id, lower(provider), model
 ORDER BY agent_id, lower(provider), model;

-- name: RuntimeDailyUsage :many
WITH zone AS (SELECT CASE WHEN @tz IN ('', 'Local') THEN 'UTC' ELSE @tz END AS name),
hourly AS (  -- whether every offset the zone uses in [cutoff, now) is a whole number of hours
  SELECT NOT EXISTS (
           SELECT 1
             FROM zone, (SELECT moment
                           FROM generate_series(@cutoff::timestamptz, @now::timestamptz, interval '6 hours') moment
                          WHERE moment < @now::timestamptz
                         UNION ALL
                         SELECT @now::timestamptz - interval '1 second'
                          WHERE @now::timestamptz > @cutoff::timestamptz) s
            WHERE mod(extract(epoch FROM (s.moment AT TIME ZONE zone.name) - (s.moment AT TIME ZONE 'UTC')),
                      3600) <> 0) AS yes
),
buckets AS (
  SELECT bucket_hour AS bucket_start, provider, model, input_tokens, output_tokens, cache_read_tokens,
         cache_write_tokens, task_count
    FROM task_usage_hourly
   WHERE (SELECT yes FROM hourly) AND runtime_id = @runtime_id AND bucket_hour >= @cutoff
  UNION ALL
  SELECT bucket_start, provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, task_count
    FROM task_usage_quarter_hourly
   WHERE NOT (SELECT yes FROM hourly) AND runtime_id = @runtime_id AND bucket_start >= @cutoff
)
SELECT DATE(bucket_start AT TIME ZONE zone.name) AS date, lower(provider) AS provider, model,
       sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
       sum(cache_read_tokens)::bigint AS cache_read_tokens, sum(cache_write_tokens)::bigint AS cache_write_tokens,
       sum(task_count)::bigint AS task_count
  FROM buckets, zone
 GROUP BY DATE(bucket_start AT TIME ZONE zone.name), lower(provider), model
 ORDER BY DATE(bucket_start AT TIME ZONE zone.name), lower(provider), model;
