DROP VIEW IF EXISTS v_304_app_reminder_115_recent;
