CREATE VIEW v_364_app_saved_view_222_recent AS
    SELECT id, workspace_id, created_at FROM app_saved_view_222 WHERE created_at > '2020-01-01'::timestamptz;
