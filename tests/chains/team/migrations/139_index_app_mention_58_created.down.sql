DROP INDEX IF EXISTS idx_139_app_mention_58_created;
