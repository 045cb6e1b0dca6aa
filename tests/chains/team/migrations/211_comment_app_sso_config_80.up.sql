COMMENT ON TABLE app_sso_config_80 IS 'Owned by the product team (revision 211).';
