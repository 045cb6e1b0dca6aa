DROP INDEX IF EXISTS idx_309_app_label_17_created;
