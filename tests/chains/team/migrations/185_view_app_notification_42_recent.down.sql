DROP VIEW IF EXISTS v_185_app_notification_42_recent;
