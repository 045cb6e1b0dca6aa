DROP FUNCTION IF EXISTS f_428_app_import_job_345_count(UUID);
