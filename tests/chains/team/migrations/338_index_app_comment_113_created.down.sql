DROP INDEX IF EXISTS idx_338_app_comment_113_created;
