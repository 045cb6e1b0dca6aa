DROP TABLE IF EXISTS app_audit_event_160;
