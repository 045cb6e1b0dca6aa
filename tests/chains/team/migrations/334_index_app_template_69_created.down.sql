DROP INDEX IF EXISTS idx_334_app_template_69_created;
