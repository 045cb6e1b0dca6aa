COMMENT ON TABLE app_sso_config_80 IS NULL;
