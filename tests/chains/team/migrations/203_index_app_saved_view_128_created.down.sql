DROP INDEX IF EXISTS idx_203_app_saved_view_128_created;
