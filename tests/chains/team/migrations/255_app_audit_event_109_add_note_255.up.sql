ALTER TABLE app_audit_event_109 ADD COLUMN note_255 TEXT;
