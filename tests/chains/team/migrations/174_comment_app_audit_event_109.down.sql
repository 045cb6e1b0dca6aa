COMMENT ON TABLE app_audit_event_109 IS NULL;
