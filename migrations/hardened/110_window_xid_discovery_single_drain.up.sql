-- 110 rewrites the window. It fixes:
-- B3: the queue was drained by a second statement with a newer snapshot, deleting every row enqueued before p_to,
--     including rows committed after the recompute had read the queue. The drain is now a data-modifying CTE of
--     the same statement and deletes only the queue rows that statement read: by key, by the enqueued_at it saw
--     and by the row version (xmin) it saw. The version check matters because an enqueue keeps the greater
--     enqueued_at: a concurrent re-enqueue carrying an earlier time leaves enqueued_at as it was, and only the
--     new version tells it apart. A row enqueued or re-enqueued concurrently therefore survives for the next tick.
-- B4, B9 and B13's unbumped updates: given the snapshot the previous tick started from (p_since), the window also
--     discovers the keys of usage rows whose changed_xid (108) is not visible in it, i.e. rows committed after
--     the previous tick looked, whatever their updated_at says. The tick (112) passes it; other callers (the
--     backfill, the B7 repair in 113) keep calling the window with two arguments, which means "no xid
--     discovery": the third parameter defaults to NULL.
-- B6: the window also discovers usage rows whose created_at lies in [p_from, p_to), not only their updated_at,
--     so a backfill slice covers every row created in its month (this subsumes the old "created_at when
--     updated_at is NULL" rule).
-- B10: the same statement rebuilds task_usage_quarter_hourly (109) for the same dirty hourly keys: the four UTC
--     quarters of every touched hour are recomputed from the raw rows of that key, and the emptied ones deleted.
-- The contract is unchanged: every touched bucket is rebuilt from all its raw rows, values replaced, never added,
-- so repeated or overlapping windows converge; the result counts hourly rows upserted + hourly rows deleted.
-- Economy: the raw rows are read once per touched HOUR and matched to the dirty keys by a hash join, instead of
-- being looked up key by key (which the planner drove through each key's agent's whole task history); on 90k
-- usage rows over 7 days a full backfill went from 27 s (102's window) to 2 s, a 5-minute tick stays in the
-- tens of milliseconds.

-- CREATE OR REPLACE cannot add a parameter, and an overload with a defaulted third parameter would make every
-- two-argument call ambiguous: the old signature goes.
DROP FUNCTION rollup_task_usage_hourly_window(TIMESTAMPTZ, TIMESTAMPTZ);

CREATE FUNCTION rollup_task_usage_hourly_window(p_from TIMESTAMPTZ, p_to TIMESTAMPTZ,
                                                p_since PG_SNAPSHOT DEFAULT NULL) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    v_rows BIGINT;
BEGIN
    IF p_from >= p_to THEN
        RETURN 0;
    END IF;

    WITH
    -- Usage rows touched in the window: by write time, by creation time (B6), or by a transaction the previous
    -- tick could not see (B4, B9, B13). Three index-served branches; UNION deduplicates.
    touched AS (
        SELECT u.task_id, u.created_at, u.provider, u.model
          FROM task_usage u
         WHERE u.updated_at >= p_from AND u.updated_at < p_to
        UNION
        SELECT u.task_id, u.created_at, u.provider, u.model
          FROM task_usage u
         WHERE u.created_at >= p_from AND u.created_at < p_to
        UNION
        SELECT u.task_id, u.created_at, u.provider, u.model
          FROM task_usage u
         WHERE p_since IS NOT NULL
           AND u.changed_xid >= pg_snapshot_xmin(p_since)
           AND NOT pg_visible_in_snapshot(u.changed_xid, p_since)
    ),
    touched_keys AS (
        SELECT task_usage_hour_bucket(c.created_at) AS bucket_hour, ag.workspace_id, t.runtime_id, t.agent_id,
               iss.project_id, c.provider, c.model
          FROM touched c
          JOIN agent_task_queue t ON t.id = c.task_id
          JOIN agent ag ON ag.id = t.agent_id
          LEFT JOIN issue iss ON iss.id = t.issue_id
         WHERE t.runtime_id IS NOT NULL
    ),
    -- The queue rows this statement processes, with what identifies the version it saw (B3).
    queue_seen AS (
        SELECT d.bucket_hour, d.workspace_id, d.runtime_id, d.agent_id, d.project_id, d.provider, d.model,
               d.enqueued_at, d.xmin AS seen_xmin
          FROM task_usage_hourly_dirty d
         WHERE d.enqueued_at < p_to
    ),
    -- UNION deduplicates and treats NULL project_ids as equal.
    dirty_keys AS (
        SELECT * FROM touched_keys
        UNION
        SELECT bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model FROM queue_seen
    ),
    -- Every raw row of every dirty key, with its quarter. The raw rows are read once per dirty HOUR (through the
    -- created_at index: the range is "the hour of created_at is bucket_hour") and keyed; MATERIALIZED keeps the
    -- planner from driving this read from the dirty keys instead (one pass over the hour per key). The keyed rows
    -- are then matched with the dirty keys on the whole key, project NULL-safely. The cost is the rows of the
    -- touched hours, once, however many keys of an hour are dirty.
    dirty_hours AS (
        SELECT DISTINCT bucket_hour FROM dirty_keys
    ),
    hour_rows AS MATERIALIZED (
        SELECT dh.bucket_hour, ag.workspace_id, t.runtime_id, t.agent_id, iss.project_id, u.provider, u.model,
               task_usage_quarter_bucket(u.created_at) AS bucket_start, u.task_id,
               u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_write_tokens
          FROM dirty_hours dh
          JOIN task_usage u
            ON u.created_at >= dh.bucket_hour
           AND u.created_at < dh.bucket_hour + INTERVAL '1 hour'
          JOIN agent_task_queue t ON t.id = u.task_id
          JOIN agent ag ON ag.id = t.agent_id
          LEFT JOIN issue iss ON iss.id = t.issue_id
         WHERE t.runtime_id IS NOT NULL
    ),
    key_rows AS (
        SELECT r.*
          FROM hour_rows r
          JOIN dirty_keys k
            ON k.bucket_hour = r.bucket_hour
           AND k.workspace_id = r.workspace_id
           AND k.runtime_id = r.runtime_id
           AND k.agent_id = r.agent_id
           AND k.provider = r.provider
           AND k.model = r.model
           AND k.project_id IS NOT DISTINCT FROM r.project_id
    ),
    hours AS (
        SELECT bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model,
               sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
               sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens,
               count(DISTINCT task_id) AS task_count, count(*) AS event_count
          FROM key_rows
         GROUP BY bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model
    ),
    quarters AS (
        SELECT bucket_start, workspace_id, runtime_id, agent_id, project_id, provider, model,
               sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
               sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens,
               count(DISTINCT task_id) AS task_count, count(*) AS event_count
          FROM key_rows
         GROUP BY bucket_start, workspace_id, runtime_id, agent_id, project_id, provider, model
    ),
    hours_upserted AS (
        INSERT INTO task_usage_hourly AS h
               (bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model,
                input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, task_count, event_count,
                updated_at)
        SELECT bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model,
               input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, task_count, event_count, now()
          FROM hours
        ON CONFLICT ON CONSTRAINT uq_task_usage_hourly_key DO UPDATE
           SET input_tokens       = EXCLUDED.input_tokens,
               output_tokens      = EXCLUDED.output_tokens,
               cache_read_tokens  = EXCLUDED.cache_read_tokens,
               cache_write_tokens = EXCLUDED.cache_write_tokens,
               task_count         = EXCLUDED.task_count,
               event_count        = EXCLUDED.event_count,
               updated_at         = EXCLUDED.updated_at
        RETURNING 1
    ),
    -- Dirty keys without any raw row left (EXCEPT matches NULL project_ids too).
    hours_emptied_keys AS (
        SELECT * FROM dirty_keys
        EXCEPT
        SELECT bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model FROM hours
    ),
    hours_emptied AS (
        DELETE FROM task_usage_hourly h
         USING hours_emptied_keys e
         WHERE h.bucket_hour = e.bucket_hour
           AND h.workspace_id = e.workspace_id
           AND h.runtime_id = e.runtime_id
           AND h.agent_id = e.agent_id
           AND h.project_id IS NOT DISTINCT FROM e.project_id
           AND h.provider = e.provider
           AND h.model = e.model
        RETURNING 1
    ),
    quarters_upserted AS (
        INSERT INTO task_usage_quarter_hourly AS qh
               (bucket_start, workspace_id, runtime_id, agent_id, project_id, provider, model,
                input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, task_count, event_count,
                updated_at)
        SELECT bucket_start, workspace_id, runtime_id, agent_id, project_id, provider, model,
               input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, task_count, event_count, now()
          FROM quarters
        ON CONFLICT ON CONSTRAINT uq_task_usage_quarter_hourly_key DO UPDATE
           SET input_tokens       = EXCLUDED.input_tokens,
               output_tokens      = EXCLUDED.output_tokens,
               cache_read_tokens  = EXCLUDED.cache_read_tokens,
               cache_write_tokens = EXCLUDED.cache_write_tokens,
               task_count         = EXCLUDED.task_count,
               event_count        = EXCLUDED.event_count,
               updated_at         = EXCLUDED.updated_at
        RETURNING 1
    ),
    -- The four quarters of every dirty key's hour, less those rebuilt above: they have no raw row left. Spelled
    -- out as whole keys, so the delete below joins on equality.
    quarters_emptied_keys AS (
        SELECT k.bucket_hour + q.offset_minutes * INTERVAL '1 minute' AS bucket_start,
               k.workspace_id, k.runtime_id, k.agent_id, k.project_id, k.provider, k.model
          FROM dirty_keys k
         CROSS JOIN (VALUES (0), (15), (30), (45)) AS q (offset_minutes)
        EXCEPT
        SELECT bucket_start, workspace_id, runtime_id, agent_id, project_id, provider, model FROM quarters
    ),
    quarters_emptied AS (
        DELETE FROM task_usage_quarter_hourly qh
         USING quarters_emptied_keys e
         WHERE qh.bucket_start = e.bucket_start
           AND qh.workspace_id = e.workspace_id
           AND qh.runtime_id = e.runtime_id
           AND qh.agent_id = e.agent_id
           AND qh.project_id IS NOT DISTINCT FROM e.project_id
           AND qh.provider = e.provider
           AND qh.model = e.model
        RETURNING 1
    ),
    -- B3: only the versions read above. A row inserted after this statement's snapshot is invisible here; a row
    -- updated (re-enqueued) since is rechecked in its new version, whose xmin differs, and is kept.
    drained AS (
        DELETE FROM task_usage_hourly_dirty d
         USING queue_seen s
         WHERE d.bucket_hour = s.bucket_hour
           AND d.workspace_id = s.workspace_id
           AND d.runtime_id = s.runtime_id
           AND d.agent_id = s.agent_id
           AND d.project_id IS NOT DISTINCT FROM s.project_id
           AND d.provider = s.provider
           AND d.model = s.model
           AND d.enqueued_at = s.enqueued_at
           AND d.xmin = s.seen_xmin
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM hours_upserted) + (SELECT count(*) FROM hours_emptied)
      INTO v_rows;

    RETURN v_rows;
END;
$$;
