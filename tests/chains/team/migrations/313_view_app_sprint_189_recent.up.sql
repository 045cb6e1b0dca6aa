CREATE VIEW v_313_app_sprint_189_recent AS
    SELECT id, workspace_id, created_at FROM app_sprint_189 WHERE created_at > '2020-01-01'::timestamptz;
