DROP INDEX IF EXISTS idx_38_app_attachment_20_created;
