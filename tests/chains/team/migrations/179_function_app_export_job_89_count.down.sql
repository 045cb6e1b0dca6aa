DROP FUNCTION IF EXISTS f_179_app_export_job_89_count(UUID);
