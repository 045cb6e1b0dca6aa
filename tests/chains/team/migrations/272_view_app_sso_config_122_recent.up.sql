CREATE VIEW v_272_app_sso_config_122_recent AS
    SELECT id, workspace_id, created_at FROM app_sso_config_122 WHERE created_at > '2020-01-01'::timestamptz;
