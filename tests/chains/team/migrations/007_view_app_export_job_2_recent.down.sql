DROP VIEW IF EXISTS v_7_app_export_job_2_recent;
