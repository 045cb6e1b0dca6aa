DROP FUNCTION IF EXISTS f_32_app_export_job_2_count(UUID);
