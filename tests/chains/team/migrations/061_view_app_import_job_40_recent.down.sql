DROP VIEW IF EXISTS v_61_app_import_job_40_recent;
