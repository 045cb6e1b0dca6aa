DROP FUNCTION IF EXISTS f_94_app_sso_config_63_count(UUID);
