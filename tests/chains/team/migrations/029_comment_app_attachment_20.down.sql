COMMENT ON TABLE app_attachment_20 IS NULL;
