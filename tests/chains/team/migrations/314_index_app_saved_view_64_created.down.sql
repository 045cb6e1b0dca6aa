DROP INDEX IF EXISTS idx_314_app_saved_view_64_created;
