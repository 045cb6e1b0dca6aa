DROP INDEX IF EXISTS idx_192_app_attachment_140_created;
