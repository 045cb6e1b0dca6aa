DROP TABLE IF EXISTS app_import_job_239;
