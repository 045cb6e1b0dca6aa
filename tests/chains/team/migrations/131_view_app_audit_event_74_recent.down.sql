DROP VIEW IF EXISTS v_131_app_audit_event_74_recent;
