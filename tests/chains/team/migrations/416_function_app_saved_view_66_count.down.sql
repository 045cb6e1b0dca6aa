DROP FUNCTION IF EXISTS f_416_app_saved_view_66_count(UUID);
