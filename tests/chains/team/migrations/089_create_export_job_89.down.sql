DROP TABLE IF EXISTS app_export_job_89;
