COMMENT ON TABLE app_notification_42 IS NULL;
