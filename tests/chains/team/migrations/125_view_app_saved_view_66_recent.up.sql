CREATE VIEW v_125_app_saved_view_66_recent AS
    SELECT id, workspace_id, created_at FROM app_saved_view_66 WHERE created_at > '2020-01-01'::timestamptz;
