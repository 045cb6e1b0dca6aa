CREATE INDEX idx_424_app_import_job_345_created ON app_import_job_345 (created_at DESC);
