CREATE FUNCTION f_416_app_saved_view_66_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_saved_view_66 WHERE workspace_id = p_workspace $$;
