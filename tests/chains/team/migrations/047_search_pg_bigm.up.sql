-- Issue search: a bigram index when pg_bigm is there; without it search falls back to ILIKE.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_bigm;
    EXECUTE 'CREATE INDEX IF NOT EXISTS idx_issue_title_bigm ON issue USING gin (title gin_bigm_ops)';
EXCEPTION
    WHEN undefined_file OR feature_not_supported THEN
        RAISE NOTICE 'pg_bigm is not available: issue search uses ILIKE';
END;
$$;
