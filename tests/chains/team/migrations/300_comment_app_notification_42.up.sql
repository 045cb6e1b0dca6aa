COMMENT ON TABLE app_notification_42 IS 'Owned by the product team (revision 300).';
