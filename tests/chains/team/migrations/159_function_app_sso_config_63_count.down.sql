DROP FUNCTION IF EXISTS f_159_app_sso_config_63_count(UUID);
