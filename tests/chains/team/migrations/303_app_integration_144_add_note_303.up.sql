ALTER TABLE app_integration_144 ADD COLUMN note_303 TEXT;
