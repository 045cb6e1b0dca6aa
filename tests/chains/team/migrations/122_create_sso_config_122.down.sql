DROP TABLE IF EXISTS app_sso_config_122;
