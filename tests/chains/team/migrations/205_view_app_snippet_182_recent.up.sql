CREATE VIEW v_205_app_snippet_182_recent AS
    SELECT id, workspace_id, created_at FROM app_snippet_182 WHERE created_at > '2020-01-01'::timestamptz;
