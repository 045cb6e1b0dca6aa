DROP FUNCTION IF EXISTS f_49_app_export_job_2_count(UUID);
