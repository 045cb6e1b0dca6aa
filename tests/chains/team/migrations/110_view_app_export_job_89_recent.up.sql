CREATE VIEW v_110_app_export_job_89_recent AS
    SELECT id, workspace_id, created_at FROM app_export_job_89 WHERE created_at > '2020-01-01'::timestamptz;
