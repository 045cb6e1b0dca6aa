DROP FUNCTION IF EXISTS f_10_app_export_job_2_count(UUID);
