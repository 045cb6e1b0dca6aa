DROP INDEX IF EXISTS idx_432_app_audit_event_415_created;
