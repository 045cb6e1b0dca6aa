CREATE VIEW v_157_app_sso_config_80_recent AS
    SELECT id, workspace_id, created_at FROM app_sso_config_80 WHERE created_at > '2020-01-01'::timestamptz;
