CREATE VIEW v_228_app_mention_107_recent AS
    SELECT id, workspace_id, created_at FROM app_mention_107 WHERE created_at > '2020-01-01'::timestamptz;
