CREATE VIEW v_212_app_comment_199_recent AS
    SELECT id, workspace_id, created_at FROM app_comment_199 WHERE created_at > '2020-01-01'::timestamptz;
