CREATE FUNCTION f_312_app_sso_config_151_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_sso_config_151 WHERE workspace_id = p_workspace $$;
