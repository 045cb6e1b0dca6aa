CREATE VIEW v_84_app_saved_view_64_recent AS
    SELECT id, workspace_id, created_at FROM app_saved_view_64 WHERE created_at > '2020-01-01'::timestamptz;
