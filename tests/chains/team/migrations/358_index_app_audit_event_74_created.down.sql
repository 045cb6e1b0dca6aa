DROP INDEX IF EXISTS idx_358_app_audit_event_74_created;
