DROP VIEW IF EXISTS v_418_app_sso_config_151_recent;
