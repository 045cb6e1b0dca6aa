COMMENT ON TABLE app_audit_event_74 IS 'Owned by the product team (revision 271).';
