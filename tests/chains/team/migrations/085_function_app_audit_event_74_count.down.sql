DROP FUNCTION IF EXISTS f_85_app_audit_event_74_count(UUID);
