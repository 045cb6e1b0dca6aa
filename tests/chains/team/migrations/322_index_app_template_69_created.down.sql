DROP INDEX IF EXISTS idx_322_app_template_69_created;
