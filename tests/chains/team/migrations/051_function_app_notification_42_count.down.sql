DROP FUNCTION IF EXISTS f_51_app_notification_42_count(UUID);
