DROP VIEW IF EXISTS v_75_app_import_job_40_recent;
