DROP INDEX IF EXISTS idx_226_app_mention_143_created;
