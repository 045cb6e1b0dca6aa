CREATE INDEX idx_410_app_feature_flag_253_created ON app_feature_flag_253 (created_at DESC);
