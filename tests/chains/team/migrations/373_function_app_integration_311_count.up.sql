CREATE FUNCTION f_373_app_integration_311_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_integration_311 WHERE workspace_id = p_workspace $$;
