CREATE FUNCTION f_374_app_mention_236_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_mention_236 WHERE workspace_id = p_workspace $$;
