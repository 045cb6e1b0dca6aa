ALTER TABLE app_sso_config_63 ADD COLUMN note_105 TEXT;
