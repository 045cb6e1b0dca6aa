DROP INDEX IF EXISTS idx_88_app_mention_58_created;
