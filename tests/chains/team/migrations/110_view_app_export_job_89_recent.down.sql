DROP VIEW IF EXISTS v_110_app_export_job_89_recent;
