DROP INDEX IF EXISTS idx_99_app_sprint_44_created;
