DROP TABLE IF EXISTS app_reminder_72;
