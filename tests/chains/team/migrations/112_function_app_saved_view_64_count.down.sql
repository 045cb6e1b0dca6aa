DROP FUNCTION IF EXISTS f_112_app_saved_view_64_count(UUID);
