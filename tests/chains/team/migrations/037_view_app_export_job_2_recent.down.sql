DROP VIEW IF EXISTS v_37_app_export_job_2_recent;
