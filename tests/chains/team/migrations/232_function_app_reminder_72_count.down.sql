DROP FUNCTION IF EXISTS f_232_app_reminder_72_count(UUID);
