DROP INDEX IF EXISTS idx_218_app_snippet_14_created;
