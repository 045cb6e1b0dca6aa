DROP INDEX IF EXISTS idx_15_app_snippet_14_created;
