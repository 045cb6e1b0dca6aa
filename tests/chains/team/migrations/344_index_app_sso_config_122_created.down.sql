DROP INDEX IF EXISTS idx_344_app_sso_config_122_created;
