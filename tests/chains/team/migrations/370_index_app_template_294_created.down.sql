DROP INDEX IF EXISTS idx_370_app_template_294_created;
