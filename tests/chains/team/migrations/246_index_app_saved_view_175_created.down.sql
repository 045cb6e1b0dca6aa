DROP INDEX IF EXISTS idx_246_app_saved_view_175_created;
