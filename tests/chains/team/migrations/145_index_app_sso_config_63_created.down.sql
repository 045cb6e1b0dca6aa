DROP INDEX IF EXISTS idx_145_app_sso_config_63_created;
