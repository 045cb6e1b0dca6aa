DROP VIEW IF EXISTS v_422_app_audit_event_74_recent;
