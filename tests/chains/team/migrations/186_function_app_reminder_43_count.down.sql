DROP FUNCTION IF EXISTS f_186_app_reminder_43_count(UUID);
