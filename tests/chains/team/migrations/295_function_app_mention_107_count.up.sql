CREATE FUNCTION f_295_app_mention_107_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_mention_107 WHERE workspace_id = p_workspace $$;
