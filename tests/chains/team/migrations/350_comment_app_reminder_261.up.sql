COMMENT ON TABLE app_reminder_261 IS 'Owned by the product team (revision 350).';
