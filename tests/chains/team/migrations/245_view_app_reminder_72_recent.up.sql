CREATE VIEW v_245_app_reminder_72_recent AS
    SELECT id, workspace_id, created_at FROM app_reminder_72 WHERE created_at > '2020-01-01'::timestamptz;
