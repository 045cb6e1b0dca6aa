DROP VIEW IF EXISTS v_280_app_reminder_115_recent;
