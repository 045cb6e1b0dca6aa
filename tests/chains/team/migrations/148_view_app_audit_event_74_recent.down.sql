DROP VIEW IF EXISTS v_148_app_audit_event_74_recent;
