DROP INDEX IF EXISTS idx_120_app_saved_view_66_created;
