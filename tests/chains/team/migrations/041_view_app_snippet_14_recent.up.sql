CREATE VIEW v_41_app_snippet_14_recent AS
    SELECT id, workspace_id, created_at FROM app_snippet_14 WHERE created_at > '2020-01-01'::timestamptz;
