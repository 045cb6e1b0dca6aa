DROP INDEX IF EXISTS idx_161_app_template_69_created;
