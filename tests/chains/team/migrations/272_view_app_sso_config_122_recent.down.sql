DROP VIEW IF EXISTS v_272_app_sso_config_122_recent;
