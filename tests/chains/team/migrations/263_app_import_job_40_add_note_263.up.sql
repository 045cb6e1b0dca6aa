ALTER TABLE app_import_job_40 ADD COLUMN note_263 TEXT;
