DROP VIEW IF EXISTS v_52_app_reminder_43_recent;
