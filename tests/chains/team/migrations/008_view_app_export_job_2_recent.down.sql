DROP VIEW IF EXISTS v_8_app_export_job_2_recent;
