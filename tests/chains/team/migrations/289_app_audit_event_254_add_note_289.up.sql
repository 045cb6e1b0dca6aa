ALTER TABLE app_audit_event_254 ADD COLUMN note_289 TEXT;
