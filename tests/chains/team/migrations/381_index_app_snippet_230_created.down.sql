DROP INDEX IF EXISTS idx_381_app_snippet_230_created;
