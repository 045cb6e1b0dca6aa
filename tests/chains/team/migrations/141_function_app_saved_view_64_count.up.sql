CREATE FUNCTION f_141_app_saved_view_64_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_saved_view_64 WHERE workspace_id = p_workspace $$;
