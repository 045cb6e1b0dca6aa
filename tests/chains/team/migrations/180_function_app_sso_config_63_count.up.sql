CREATE FUNCTION f_180_app_sso_config_63_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_sso_config_63 WHERE workspace_id = p_workspace $$;
