DROP FUNCTION IF EXISTS f_180_app_sso_config_63_count(UUID);
