ALTER TABLE app_sso_config_65 ADD COLUMN note_78 TEXT;
