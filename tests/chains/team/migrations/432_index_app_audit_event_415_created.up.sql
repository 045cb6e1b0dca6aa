CREATE INDEX idx_432_app_audit_event_415_created ON app_audit_event_415 (created_at DESC);
