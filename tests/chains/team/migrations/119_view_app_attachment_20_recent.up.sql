CREATE VIEW v_119_app_attachment_20_recent AS
    SELECT id, workspace_id, created_at FROM app_attachment_20 WHERE created_at > '2020-01-01'::timestamptz;
