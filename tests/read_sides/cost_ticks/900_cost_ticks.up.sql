-- The team chain's cost columns (tests/chains/team: 287_task_usage_cost) on top of the reference, for read-side
-- tests until that chain is joined: a nullable cost in ticks (1e-9 USD) per usage row, and on the hourly table the
-- cost summed and, per token counter, the tokens of rows not yet costed. rollups.toml declares them as the chain
-- does.
ALTER TABLE task_usage ADD COLUMN cost_usd_ticks BIGINT;

ALTER TABLE task_usage_hourly
    ADD COLUMN cost_usd_ticks BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN uncosted_input_tokens BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN uncosted_output_tokens BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN uncosted_cache_read_tokens BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN uncosted_cache_write_tokens BIGINT NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION rollup_task_usage_hourly_window(p_from TIMESTAMPTZ, p_to TIMESTAMPTZ) RETURNS BIGINT
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
               count(*)                    AS event_count,
               coalesce(sum(tu.cost_usd_ticks), 0) AS cost_usd_ticks,
               coalesce(sum(tu.input_tokens) FILTER (WHERE tu.cost_usd_ticks IS NULL), 0)
                   AS uncosted_input_tokens,
               coalesce(sum(tu.output_tokens) FILTER (WHERE tu.cost_usd_ticks IS NULL), 0)
                   AS uncosted_output_tokens,
               coalesce(sum(tu.cache_read_tokens) FILTER (WHERE tu.cost_usd_ticks IS NULL), 0)
                   AS uncosted_cache_read_tokens,
               coalesce(sum(tu.cache_write_tokens) FILTER (WHERE tu.cost_usd_ticks IS NULL), 0)
                   AS uncosted_cache_write_tokens
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
                cost_usd_ticks, uncosted_input_tokens, uncosted_output_tokens, uncosted_cache_read_tokens,
                uncosted_cache_write_tokens,
                updated_at)
        SELECT bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model,
               input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, task_count, event_count,
               cost_usd_ticks, uncosted_input_tokens, uncosted_output_tokens, uncosted_cache_read_tokens,
               uncosted_cache_write_tokens,
               now()
          FROM recomputed
        ON CONFLICT ON CONSTRAINT uq_task_usage_hourly_key DO UPDATE
           SET input_tokens       = EXCLUDED.input_tokens,
               output_tokens      = EXCLUDED.output_tokens,
               cache_read_tokens  = EXCLUDED.cache_read_tokens,
               cache_write_tokens = EXCLUDED.cache_write_tokens,
               task_count         = EXCLUDED.task_count,
               event_count        = EXCLUDED.event_count,
               cost_usd_ticks = EXCLUDED.cost_usd_ticks,
               uncosted_input_tokens = EXCLUDED.uncosted_input_tokens,
               uncosted_output_tokens = EXCLUDED.uncosted_output_tokens,
               uncosted_cache_read_tokens = EXCLUDED.uncosted_cache_read_tokens,
               uncosted_cache_write_tokens = EXCLUDED.uncosted_cache_write_tokens,
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
