ALTER TABLE app_saved_view_64 ADD COLUMN note_223 TEXT;
