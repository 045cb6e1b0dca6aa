DROP FUNCTION IF EXISTS f_117_app_mention_58_count(UUID);
