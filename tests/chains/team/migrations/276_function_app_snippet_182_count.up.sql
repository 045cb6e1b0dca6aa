CREATE FUNCTION f_276_app_snippet_182_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_snippet_182 WHERE workspace_id = p_workspace $$;
