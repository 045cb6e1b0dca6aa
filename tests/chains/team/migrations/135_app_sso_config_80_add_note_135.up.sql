ALTER TABLE app_sso_config_80 ADD COLUMN note_135 TEXT;
