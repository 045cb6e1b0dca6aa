DROP INDEX IF EXISTS idx_4_app_export_job_2_created;
