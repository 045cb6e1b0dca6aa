CREATE VIEW v_37_app_export_job_2_recent AS
    SELECT id, workspace_id, created_at FROM app_export_job_2 WHERE created_at > '2020-01-01'::timestamptz;
