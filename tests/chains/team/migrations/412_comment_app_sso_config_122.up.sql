COMMENT ON TABLE app_sso_config_122 IS 'Owned by the product team (revision 412).';
