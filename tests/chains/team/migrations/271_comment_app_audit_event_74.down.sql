COMMENT ON TABLE app_audit_event_74 IS NULL;
