DROP FUNCTION IF EXISTS f_30_app_export_job_2_count(UUID);
