DROP FUNCTION IF EXISTS f_132_app_export_job_89_count(UUID);
