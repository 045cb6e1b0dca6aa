DROP INDEX IF EXISTS idx_274_app_sprint_44_created;
