DROP INDEX IF EXISTS idx_114_app_label_17_created;
