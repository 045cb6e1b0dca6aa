COMMENT ON TABLE app_audit_event_109 IS 'Owned by the product team (revision 174).';
