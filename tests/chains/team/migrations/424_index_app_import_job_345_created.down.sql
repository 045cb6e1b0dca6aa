DROP INDEX IF EXISTS idx_424_app_import_job_345_created;
