DROP INDEX IF EXISTS idx_208_app_import_job_40_created;
