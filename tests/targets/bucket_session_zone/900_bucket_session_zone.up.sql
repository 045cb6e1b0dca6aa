-- A mutant for the gate's own tests (over reference): the bucket truncates to the hour in the session's TimeZone,
-- still declared IMMUTABLE. In a zone whose offset is a whole hour it is the UTC hour, so a workload whose
-- sessions all run in such zones cannot tell; a tick, a backfill or a writer in Asia/Kolkata keys rows by hours
-- that start at :30 UTC.
CREATE OR REPLACE FUNCTION task_usage_hour_bucket(ts TIMESTAMPTZ) RETURNS TIMESTAMPTZ
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT date_trunc('hour', ts)
$$;
