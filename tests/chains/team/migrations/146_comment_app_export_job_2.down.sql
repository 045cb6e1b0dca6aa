COMMENT ON TABLE app_export_job_2 IS NULL;
