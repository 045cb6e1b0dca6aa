COMMENT ON TABLE app_reminder_115 IS 'Owned by the product team (revision 408).';
