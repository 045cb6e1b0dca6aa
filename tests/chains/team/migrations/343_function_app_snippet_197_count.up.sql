CREATE FUNCTION f_343_app_snippet_197_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_snippet_197 WHERE workspace_id = p_workspace $$;
