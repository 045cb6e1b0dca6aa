COMMENT ON TABLE app_sso_config_63 IS 'Owned by the product team (revision 340).';
