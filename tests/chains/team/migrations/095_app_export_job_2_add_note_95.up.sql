ALTER TABLE app_export_job_2 ADD COLUMN note_95 TEXT;
