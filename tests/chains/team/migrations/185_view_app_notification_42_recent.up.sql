CREATE VIEW v_185_app_notification_42_recent AS
    SELECT id, workspace_id, created_at FROM app_notification_42 WHERE created_at > '2020-01-01'::timestamptz;
