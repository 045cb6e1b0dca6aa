DROP INDEX IF EXISTS idx_111_app_sso_config_63_created;
