CREATE FUNCTION f_108_app_sso_config_80_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_sso_config_80 WHERE workspace_id = p_workspace $$;
