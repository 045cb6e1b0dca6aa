CREATE VIEW v_219_app_saved_view_175_recent AS
    SELECT id, workspace_id, created_at FROM app_saved_view_175 WHERE created_at > '2020-01-01'::timestamptz;
