DROP TABLE IF EXISTS app_feature_flag_153;
