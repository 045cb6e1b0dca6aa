DROP INDEX IF EXISTS idx_172_app_saved_view_128_created;
