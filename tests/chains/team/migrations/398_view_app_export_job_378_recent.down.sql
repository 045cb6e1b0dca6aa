DROP VIEW IF EXISTS v_398_app_export_job_378_recent;
