CREATE VIEW v_292_app_milestone_237_recent AS
    SELECT id, workspace_id, created_at FROM app_milestone_237 WHERE created_at > '2020-01-01'::timestamptz;
