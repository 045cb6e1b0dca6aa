CREATE FUNCTION f_233_app_sso_config_122_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_sso_config_122 WHERE workspace_id = p_workspace $$;
