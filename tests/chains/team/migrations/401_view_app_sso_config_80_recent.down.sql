DROP VIEW IF EXISTS v_401_app_sso_config_80_recent;
