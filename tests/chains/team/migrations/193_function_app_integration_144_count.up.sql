CREATE FUNCTION f_193_app_integration_144_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_integration_144 WHERE workspace_id = p_workspace $$;
