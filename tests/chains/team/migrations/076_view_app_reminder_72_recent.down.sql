DROP VIEW IF EXISTS v_76_app_reminder_72_recent;
