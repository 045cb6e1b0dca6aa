CREATE FUNCTION f_60_app_integration_28_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_integration_28 WHERE workspace_id = p_workspace $$;
