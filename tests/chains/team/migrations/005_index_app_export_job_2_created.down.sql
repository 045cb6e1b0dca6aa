DROP INDEX IF EXISTS idx_5_app_export_job_2_created;
