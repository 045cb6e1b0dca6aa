CREATE VIEW v_304_app_reminder_115_recent AS
    SELECT id, workspace_id, created_at FROM app_reminder_115 WHERE created_at > '2020-01-01'::timestamptz;
