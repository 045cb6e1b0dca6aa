CREATE INDEX idx_273_app_export_job_129_created ON app_export_job_129 (created_at DESC);
