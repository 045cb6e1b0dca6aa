CREATE INDEX idx_86_app_import_job_40_created ON app_import_job_40 (created_at DESC);
