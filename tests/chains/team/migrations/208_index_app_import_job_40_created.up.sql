CREATE INDEX idx_208_app_import_job_40_created ON app_import_job_40 (created_at DESC);
