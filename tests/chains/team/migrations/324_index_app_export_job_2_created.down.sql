DROP INDEX IF EXISTS idx_324_app_export_job_2_created;
