DROP FUNCTION IF EXISTS f_233_app_sso_config_122_count(UUID);
