DROP INDEX IF EXISTS idx_288_app_attachment_249_created;
