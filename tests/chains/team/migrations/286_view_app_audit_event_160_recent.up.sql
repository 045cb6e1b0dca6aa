CREATE VIEW v_286_app_audit_event_160_recent AS
    SELECT id, workspace_id, created_at FROM app_audit_event_160 WHERE created_at > '2020-01-01'::timestamptz;
