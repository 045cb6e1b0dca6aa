DROP FUNCTION IF EXISTS f_108_app_sso_config_80_count(UUID);
