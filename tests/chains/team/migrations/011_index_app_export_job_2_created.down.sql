DROP INDEX IF EXISTS idx_11_app_export_job_2_created;
