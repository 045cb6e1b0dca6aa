CREATE VIEW v_418_app_sso_config_151_recent AS
    SELECT id, workspace_id, created_at FROM app_sso_config_151 WHERE created_at > '2020-01-01'::timestamptz;
