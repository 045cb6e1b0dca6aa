COMMENT ON TABLE app_feature_flag_153 IS NULL;
