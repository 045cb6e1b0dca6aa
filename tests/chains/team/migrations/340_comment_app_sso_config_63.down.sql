COMMENT ON TABLE app_sso_config_63 IS NULL;
