DROP INDEX IF EXISTS idx_349_app_template_69_created;
