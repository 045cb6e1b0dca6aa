COMMENT ON TABLE app_integration_144 IS 'Owned by the product team (revision 347).';
