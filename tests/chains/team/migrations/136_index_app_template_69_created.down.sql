DROP INDEX IF EXISTS idx_136_app_template_69_created;
