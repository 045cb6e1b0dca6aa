ALTER TABLE app_integration_342 ADD COLUMN note_399 TEXT;
