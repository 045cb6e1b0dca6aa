DROP INDEX IF EXISTS idx_273_app_export_job_129_created;
