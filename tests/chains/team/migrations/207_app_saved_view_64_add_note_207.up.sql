ALTER TABLE app_saved_view_64 ADD COLUMN note_207 TEXT;
