ALTER TABLE app_notification_42 ADD COLUMN note_426 TEXT;
