CREATE INDEX idx_358_app_audit_event_74_created ON app_audit_event_74 (created_at DESC);
