COMMENT ON TABLE app_integration_28 IS 'Owned by the product team (revision 178).';
