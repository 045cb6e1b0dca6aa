CREATE VIEW v_52_app_reminder_43_recent AS
    SELECT id, workspace_id, created_at FROM app_reminder_43 WHERE created_at > '2020-01-01'::timestamptz;
