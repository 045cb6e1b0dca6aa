CREATE VIEW v_268_app_milestone_209_recent AS
    SELECT id, workspace_id, created_at FROM app_milestone_209 WHERE created_at > '2020-01-01'::timestamptz;
