DROP INDEX IF EXISTS idx_173_app_saved_view_128_created;
