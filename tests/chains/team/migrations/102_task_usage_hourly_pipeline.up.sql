-- 102: the pipeline that keeps task_usage_hourly in step with task_usage: the UTC hour-bucket function, four
-- BEFORE row triggers feeding the dirty queue, the window that rebuilds touched buckets from raw rows, the queue
-- prune, the 5-minute tick and a lag helper.
-- This is the reference model of the upstream design: its known flaws are kept on purpose and marked where they
-- live (B1, B2, B3, B4, B5, B8, B12, B13, L1; see spec/invariants.md). Do not fix them here.

-- The UTC hour containing ts. Going through a zone-less timestamp in UTC makes the result independent of the
-- session's TimeZone, so the function is truly immutable and every caller computes identical keys.
CREATE FUNCTION task_usage_hour_bucket(ts TIMESTAMPTZ) RETURNS TIMESTAMPTZ
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT date_trunc('hour', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Dirty-queue triggers. Each enqueue is an upsert on the queue key that keeps the later enqueued_at.
-- B13 (deliberate): nothing fires on INSERT or UPDATE of task_usage; the updated_at watermark is trusted to
-- find those, so a change of provider/model/created_at/task_id leaves the old bucket stale, and an UPDATE that
-- does not bump updated_at is never seen. Nothing fires on agent, agent_runtime, project or workspace either.
-- ---------------------------------------------------------------------------------------------------------

-- Task re-attribution (runtime or issue changed) and task deletion: enqueue the keys of the task's usage rows
-- as they were (OLD) and, on UPDATE, as they become (NEW). Workspace comes from the task's agent (inner join),
-- project from its issue (left join).
-- B1 (deliberate): when an agent is hard-deleted, the cascade reaches its tasks after the agent row is gone, the
-- inner join finds nothing and no key is enqueued, so the agent's buckets stay forever.
CREATE FUNCTION task_usage_hourly_dirty_on_task() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.runtime_id IS NOT DISTINCT FROM OLD.runtime_id
       AND NEW.issue_id IS NOT DISTINCT FROM OLD.issue_id THEN
        RETURN NEW;
    END IF;

    INSERT INTO task_usage_hourly_dirty AS q
           (bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model)
    SELECT DISTINCT task_usage_hour_bucket(tu.created_at), a.workspace_id, side.runtime_id, side.agent_id,
           i.project_id, tu.provider, tu.model
      FROM (SELECT OLD.agent_id, OLD.runtime_id, OLD.issue_id
            UNION ALL
            SELECT NEW.agent_id, NEW.runtime_id, NEW.issue_id WHERE TG_OP = 'UPDATE')
           AS side (agent_id, runtime_id, issue_id)
      JOIN task_usage tu ON tu.task_id = OLD.id
      JOIN agent a ON a.id = side.agent_id
      LEFT JOIN issue i ON i.id = side.issue_id
     WHERE side.runtime_id IS NOT NULL
    ON CONFLICT ON CONSTRAINT uq_task_usage_hourly_dirty_key DO UPDATE
       SET enqueued_at = greatest(q.enqueued_at, EXCLUDED.enqueued_at);

    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;

-- INVARIANT: agent_task_queue.agent_id is immutable, which is why it is not in the column list below. If it
-- ever becomes mutable it must be added, or the old agent's buckets silently go stale.
-- B12 (deliberate): the invariant is only documented, not enforced.
CREATE TRIGGER trg_atq_dirty_hourly
    BEFORE UPDATE OF runtime_id, issue_id OR DELETE ON agent_task_queue
    FOR EACH ROW EXECUTE FUNCTION task_usage_hourly_dirty_on_task();

-- Issue deletion: by the time the cascade deletes the issue's tasks the issue row is gone, so the project is
-- captured here, while OLD is still at hand, for every task of the issue that has a runtime.
-- B2 (deliberate): the workspace is the issue's, while the rollup keys on the agent's workspace; if the two
-- differ, the enqueued key is not the bucket's key and the bucket stays stale.
CREATE FUNCTION task_usage_hourly_dirty_on_issue_delete() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_usage_hourly_dirty AS q
           (bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model)
    SELECT DISTINCT task_usage_hour_bucket(tu.created_at), OLD.workspace_id, t.runtime_id, t.agent_id,
           OLD.project_id, tu.provider, tu.model
      FROM agent_task_queue t
      JOIN task_usage tu ON tu.task_id = t.id
     WHERE t.issue_id = OLD.id
       AND t.runtime_id IS NOT NULL
    ON CONFLICT ON CONSTRAINT uq_task_usage_hourly_dirty_key DO UPDATE
       SET enqueued_at = greatest(q.enqueued_at, EXCLUDED.enqueued_at);
    RETURN OLD;
END;
$$;

CREATE TRIGGER trg_issue_delete_dirty_hourly
    BEFORE DELETE ON issue
    FOR EACH ROW EXECUTE FUNCTION task_usage_hourly_dirty_on_issue_delete();

-- Issue moved to another project (including project deletion, whose ON DELETE SET NULL is an UPDATE): enqueue the
-- keys of every task of the issue under the old and under the new project.
-- B2 (deliberate): workspace again taken from the issue (NEW.workspace_id), not from the agent.
CREATE FUNCTION task_usage_hourly_dirty_on_issue_project() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.project_id IS NOT DISTINCT FROM OLD.project_id THEN
        RETURN NEW;
    END IF;

    INSERT INTO task_usage_hourly_dirty AS q
           (bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model)
    SELECT DISTINCT task_usage_hour_bucket(tu.created_at), NEW.workspace_id, t.runtime_id, t.agent_id,
           p.project_id, tu.provider, tu.model
      FROM agent_task_queue t
      JOIN task_usage tu ON tu.task_id = t.id
     CROSS JOIN (VALUES (OLD.project_id), (NEW.project_id)) AS p (project_id)
     WHERE t.issue_id = NEW.id
       AND t.runtime_id IS NOT NULL
    ON CONFLICT ON CONSTRAINT uq_task_usage_hourly_dirty_key DO UPDATE
       SET enqueued_at = greatest(q.enqueued_at, EXCLUDED.enqueued_at);
    RETURN NEW;
END;
$$;

CREATE TRIGGER trg_issue_project_dirty_hourly
    BEFORE UPDATE OF project_id ON issue
    FOR EACH ROW EXECUTE FUNCTION task_usage_hourly_dirty_on_issue_project();

-- Usage row deleted: enqueue its key. When the delete is a cascade from the task (or beyond) the task row is
-- already gone and nothing is enqueued here; the task trigger above covered it, or, for agent deletes, nobody
-- did (B1).
CREATE FUNCTION task_usage_hourly_dirty_on_usage_delete() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_usage_hourly_dirty AS q
           (bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model)
    SELECT task_usage_hour_bucket(OLD.created_at), a.workspace_id, t.runtime_id, t.agent_id,
           i.project_id, OLD.provider, OLD.model
      FROM agent_task_queue t
      JOIN agent a ON a.id = t.agent_id
      LEFT JOIN issue i ON i.id = t.issue_id
     WHERE t.id = OLD.task_id
       AND t.runtime_id IS NOT NULL
    ON CONFLICT ON CONSTRAINT uq_task_usage_hourly_dirty_key DO UPDATE
       SET enqueued_at = greatest(q.enqueued_at, EXCLUDED.enqueued_at);
    RETURN OLD;
END;
$$;

CREATE TRIGGER trg_task_usage_delete_dirty_hourly
    BEFORE DELETE ON task_usage
    FOR EACH ROW EXECUTE FUNCTION task_usage_hourly_dirty_on_usage_delete();

-- ---------------------------------------------------------------------------------------------------------
-- Window: rebuild every bucket touched in [p_from, p_to) from ALL its raw rows. Touched = a usage row whose
-- updated_at (or created_at when updated_at is NULL) lies in the range, or a queue row enqueued before p_to.
-- Values are replaced, never added, so overlapping or repeated windows converge. Returns rows upserted + rows
-- deleted.
-- B4 (deliberate): updated_at is the writer's transaction start; a writer that commits after the watermark has
-- moved past that instant is never discovered.
-- ---------------------------------------------------------------------------------------------------------
CREATE FUNCTION rollup_task_usage_hourly_window(p_from TIMESTAMPTZ, p_to TIMESTAMPTZ) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    v_rows BIGINT;
BEGIN
    IF p_from >= p_to THEN
        RETURN 0;
    END IF;

    WITH watermark_keys AS (
        SELECT task_usage_hour_bucket(tu.created_at) AS bucket_hour, a.workspace_id, t.runtime_id, t.agent_id,
               i.project_id, tu.provider, tu.model
          FROM task_usage tu
          JOIN agent_task_queue t ON t.id = tu.task_id
          JOIN agent a ON a.id = t.agent_id
          LEFT JOIN issue i ON i.id = t.issue_id
         WHERE t.runtime_id IS NOT NULL
           AND (   (tu.updated_at >= p_from AND tu.updated_at < p_to)
                OR (tu.updated_at IS NULL AND tu.created_at >= p_from AND tu.created_at < p_to))
    ),
    queue_keys AS (
        SELECT bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model
          FROM task_usage_hourly_dirty
         WHERE enqueued_at < p_to
    ),
    -- UNION deduplicates and, like GROUP BY, treats NULL project_ids as equal.
    dirty_keys AS (
        SELECT * FROM watermark_keys
        UNION
        SELECT * FROM queue_keys
    ),
    -- The created_at range is exactly "task_usage_hour_bucket(created_at) = bucket_hour" for the hour-aligned
    -- keys above, written so an index on created_at can serve it.
    recomputed AS (
        SELECT k.bucket_hour, k.workspace_id, k.runtime_id, k.agent_id, k.project_id, k.provider, k.model,
               sum(tu.input_tokens)        AS input_tokens,
               sum(tu.output_tokens)       AS output_tokens,
               sum(tu.cache_read_tokens)   AS cache_read_tokens,
               sum(tu.cache_write_tokens)  AS cache_write_tokens,
               count(DISTINCT tu.task_id)  AS task_count,
               count(*)                    AS event_count
          FROM dirty_keys k
          JOIN task_usage tu
            ON tu.created_at >= k.bucket_hour
           AND tu.created_at < k.bucket_hour + INTERVAL '1 hour'
           AND tu.provider = k.provider
           AND tu.model = k.model
          JOIN agent_task_queue t
            ON t.id = tu.task_id
           AND t.runtime_id = k.runtime_id
           AND t.agent_id = k.agent_id
          JOIN agent a
            ON a.id = t.agent_id
           AND a.workspace_id = k.workspace_id
          LEFT JOIN issue i ON i.id = t.issue_id
         WHERE i.project_id IS NOT DISTINCT FROM k.project_id
         GROUP BY k.bucket_hour, k.workspace_id, k.runtime_id, k.agent_id, k.project_id, k.provider, k.model
    ),
    upserted AS (
        INSERT INTO task_usage_hourly AS h
               (bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model,
                input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, task_count, event_count,
                updated_at)
        SELECT bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model,
               input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, task_count, event_count,
               now()
          FROM recomputed
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
    -- Keys that were touched but no longer have any raw row (EXCEPT also matches NULL project_ids).
    emptied_keys AS (
        SELECT * FROM dirty_keys
        EXCEPT
        SELECT bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model FROM recomputed
    ),
    emptied AS (
        DELETE FROM task_usage_hourly h
         USING emptied_keys e
         WHERE h.bucket_hour = e.bucket_hour
           AND h.workspace_id = e.workspace_id
           AND h.runtime_id = e.runtime_id
           AND h.agent_id = e.agent_id
           AND h.project_id IS NOT DISTINCT FROM e.project_id
           AND h.provider = e.provider
           AND h.model = e.model
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM upserted) + (SELECT count(*) FROM emptied)
      INTO v_rows;

    -- B3 (deliberate): the queue is drained by a second statement, which takes a newer snapshot than the one
    -- above; a dirty row committed in between with enqueued_at < p_to is deleted without being processed.
    DELETE FROM task_usage_hourly_dirty
     WHERE enqueued_at < p_to;

    RETURN v_rows;
END;
$$;

-- Deletes queue rows older than the retention, processed or not, so the queue stays bounded.
-- B5 (deliberate): after a pause longer than the retention the tick prunes rows no window has reached yet.
CREATE FUNCTION prune_task_usage_hourly_dirty(p_retention INTERVAL DEFAULT INTERVAL '7 days') RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    v_deleted BIGINT;
BEGIN
    DELETE FROM task_usage_hourly_dirty
     WHERE enqueued_at < now() - p_retention;
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END;
$$;

-- The tick, run every 5 minutes: advance the watermark by at most one day, up to 5 minutes ago, rolling up the
-- window in between; then prune the queue. Returns the window's row count (0 when another tick holds the lock).
-- L1 (deliberate): the advisory lock is session-scoped. A cancelled tick (statement_timeout, pg_cancel_backend)
-- does not enter WHEN OTHERS, so the lock survives the rollback and stays with that pooled connection: ticks from
-- any other connection return 0 from then on (the holder's own ticks re-enter the lock and leave it held).
-- B8 (deliberate): the handler's write of last_error/last_run_finished_at is rolled back by its own re-raise.
CREATE FUNCTION rollup_task_usage_hourly() RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    v_from TIMESTAMPTZ;
    v_to   TIMESTAMPTZ;
    v_rows BIGINT := 0;
BEGIN
    IF NOT pg_try_advisory_lock(4246) THEN
        RETURN 0;
    END IF;

    BEGIN
        UPDATE task_usage_hourly_rollup_state
           SET last_run_started_at = now(),
               last_error = NULL
         WHERE id = 1
        RETURNING watermark_at INTO v_from;

        -- 5 minutes of allowance for writes not yet visible; at most one day per tick so a watermark far
        -- behind catches up in steps.
        v_to := least(now() - INTERVAL '5 minutes', v_from + INTERVAL '1 day');

        IF v_from < v_to THEN
            v_rows := rollup_task_usage_hourly_window(v_from, v_to);
            UPDATE task_usage_hourly_rollup_state
               SET watermark_at = v_to,
                   last_run_finished_at = now(),
                   last_run_rows = v_rows
             WHERE id = 1;
        ELSE
            UPDATE task_usage_hourly_rollup_state
               SET last_run_finished_at = now(),
                   last_run_rows = 0
             WHERE id = 1;
        END IF;

        PERFORM pg_advisory_unlock(4246);
    EXCEPTION WHEN OTHERS THEN
        UPDATE task_usage_hourly_rollup_state
           SET last_error = SQLERRM,
               last_run_finished_at = now()
         WHERE id = 1;
        PERFORM pg_advisory_unlock(4246);
        RAISE;
    END;

    -- Runs after the lock is released, with the default retention (B5).
    PERFORM prune_task_usage_hourly_dirty();

    RETURN v_rows;
END;
$$;

-- Seconds since the last tick finished (NULL before the first one).
CREATE FUNCTION task_usage_hourly_rollup_lag_seconds() RETURNS DOUBLE PRECISION
LANGUAGE sql STABLE AS $$
    SELECT extract(epoch FROM now() - last_run_finished_at)::DOUBLE PRECISION
      FROM task_usage_hourly_rollup_state
     WHERE id = 1
$$;
