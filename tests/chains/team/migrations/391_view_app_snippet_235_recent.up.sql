CREATE VIEW v_391_app_snippet_235_recent AS
    SELECT id, workspace_id, created_at FROM app_snippet_235 WHERE created_at > '2020-01-01'::timestamptz;
