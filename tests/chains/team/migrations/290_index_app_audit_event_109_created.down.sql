DROP INDEX IF EXISTS idx_290_app_audit_event_109_created;
