COMMENT ON TABLE app_reminder_43 IS 'Owned by the product team (revision 59).';
