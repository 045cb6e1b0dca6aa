DROP INDEX IF EXISTS idx_67_app_sso_config_65_created;
