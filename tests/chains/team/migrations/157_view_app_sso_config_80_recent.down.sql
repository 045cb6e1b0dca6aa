DROP VIEW IF EXISTS v_157_app_sso_config_80_recent;
