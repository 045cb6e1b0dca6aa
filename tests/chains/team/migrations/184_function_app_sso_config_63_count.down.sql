DROP FUNCTION IF EXISTS f_184_app_sso_config_63_count(UUID);
