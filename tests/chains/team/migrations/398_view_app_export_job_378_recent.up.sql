CREATE VIEW v_398_app_export_job_378_recent AS
    SELECT id, workspace_id, created_at FROM app_export_job_378 WHERE created_at > '2020-01-01'::timestamptz;
