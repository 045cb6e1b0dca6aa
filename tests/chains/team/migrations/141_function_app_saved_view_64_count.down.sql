DROP FUNCTION IF EXISTS f_141_app_saved_view_64_count(UUID);
