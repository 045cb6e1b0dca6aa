DROP FUNCTION IF EXISTS f_312_app_sso_config_151_count(UUID);
