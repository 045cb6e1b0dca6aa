DROP FUNCTION IF EXISTS f_45_app_notification_42_count(UUID);
