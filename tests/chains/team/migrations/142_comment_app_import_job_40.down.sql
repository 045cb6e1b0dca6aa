COMMENT ON TABLE app_import_job_40 IS NULL;
