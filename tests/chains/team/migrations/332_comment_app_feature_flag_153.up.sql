COMMENT ON TABLE app_feature_flag_153 IS 'Owned by the product team (revision 332).';
