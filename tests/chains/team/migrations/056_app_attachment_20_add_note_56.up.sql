ALTER TABLE app_attachment_20 ADD COLUMN note_56 TEXT;
