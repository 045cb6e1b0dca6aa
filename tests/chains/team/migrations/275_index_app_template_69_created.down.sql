DROP INDEX IF EXISTS idx_275_app_template_69_created;
