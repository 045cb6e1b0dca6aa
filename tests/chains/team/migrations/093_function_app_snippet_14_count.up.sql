CREATE FUNCTION f_93_app_snippet_14_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_snippet_14 WHERE workspace_id = p_workspace $$;
