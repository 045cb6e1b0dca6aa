ALTER TABLE app_export_job_89 ADD COLUMN note_243 TEXT;
