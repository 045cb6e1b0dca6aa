DROP INDEX IF EXISTS idx_86_app_import_job_40_created;
