CREATE VIEW v_75_app_import_job_40_recent AS
    SELECT id, workspace_id, created_at FROM app_import_job_40 WHERE created_at > '2020-01-01'::timestamptz;
