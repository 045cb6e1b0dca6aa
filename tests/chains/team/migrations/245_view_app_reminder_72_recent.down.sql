DROP VIEW IF EXISTS v_245_app_reminder_72_recent;
