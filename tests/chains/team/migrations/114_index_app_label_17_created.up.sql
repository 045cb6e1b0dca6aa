CREATE INDEX idx_114_app_label_17_created ON app_label_17 (created_at DESC);
