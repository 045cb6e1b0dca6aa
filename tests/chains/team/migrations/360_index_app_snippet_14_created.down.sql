DROP INDEX IF EXISTS idx_360_app_snippet_14_created;
