DROP FUNCTION IF EXISTS f_3_app_export_job_2_count(UUID);
