CREATE FUNCTION f_117_app_mention_58_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_mention_58 WHERE workspace_id = p_workspace $$;
