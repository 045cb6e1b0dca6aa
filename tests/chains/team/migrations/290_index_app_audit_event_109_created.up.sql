CREATE INDEX idx_290_app_audit_event_109_created ON app_audit_event_109 (created_at DESC);
