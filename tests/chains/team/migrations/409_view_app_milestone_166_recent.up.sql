CREATE VIEW v_409_app_milestone_166_recent AS
    SELECT id, workspace_id, created_at FROM app_milestone_166 WHERE created_at > '2020-01-01'::timestamptz;
