DROP VIEW IF EXISTS v_224_app_import_job_40_recent;
