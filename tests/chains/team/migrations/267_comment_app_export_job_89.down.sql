COMMENT ON TABLE app_export_job_89 IS NULL;
