COMMENT ON TABLE app_attachment_20 IS 'Owned by the product team (revision 29).';
