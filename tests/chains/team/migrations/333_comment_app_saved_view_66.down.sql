COMMENT ON TABLE app_saved_view_66 IS NULL;
