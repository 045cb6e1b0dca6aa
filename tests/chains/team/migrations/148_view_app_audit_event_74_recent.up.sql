CREATE VIEW v_148_app_audit_event_74_recent AS
    SELECT id, workspace_id, created_at FROM app_audit_event_74 WHERE created_at > '2020-01-01'::timestamptz;
