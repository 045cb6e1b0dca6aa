DROP FUNCTION IF EXISTS f_315_app_attachment_190_count(UUID);
