CREATE VIEW v_33_app_label_17_recent AS
    SELECT id, workspace_id, created_at FROM app_label_17 WHERE created_at > '2020-01-01'::timestamptz;
