CREATE VIEW v_50_app_webhook_35_recent AS
    SELECT id, workspace_id, created_at FROM app_webhook_35 WHERE created_at > '2020-01-01'::timestamptz;
