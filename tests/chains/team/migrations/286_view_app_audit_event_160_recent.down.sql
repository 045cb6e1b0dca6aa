DROP VIEW IF EXISTS v_286_app_audit_event_160_recent;
