CREATE INDEX idx_309_app_label_17_created ON app_label_17 (created_at DESC);
