COMMENT ON TABLE app_reminder_281 IS 'Owned by the product team (revision 325).';
