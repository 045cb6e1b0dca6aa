COMMENT ON TABLE app_sso_config_151 IS 'Owned by the product team (revision 162).';
