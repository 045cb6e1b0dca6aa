CREATE INDEX idx_5_app_export_job_2_created ON app_export_job_2 (created_at DESC);
