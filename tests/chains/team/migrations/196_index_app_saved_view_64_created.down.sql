DROP INDEX IF EXISTS idx_196_app_saved_view_64_created;
