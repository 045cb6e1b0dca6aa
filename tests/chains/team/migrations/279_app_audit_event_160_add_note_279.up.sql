ALTER TABLE app_audit_event_160 ADD COLUMN note_279 TEXT;
