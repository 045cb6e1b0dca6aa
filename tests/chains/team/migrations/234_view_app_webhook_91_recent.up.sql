CREATE VIEW v_234_app_webhook_91_recent AS
    SELECT id, workspace_id, created_at FROM app_webhook_91 WHERE created_at > '2020-01-01'::timestamptz;
