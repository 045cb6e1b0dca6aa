CREATE VIEW v_251_app_attachment_249_recent AS
    SELECT id, workspace_id, created_at FROM app_attachment_249 WHERE created_at > '2020-01-01'::timestamptz;
