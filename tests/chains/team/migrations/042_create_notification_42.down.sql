DROP TABLE IF EXISTS app_notification_42;
