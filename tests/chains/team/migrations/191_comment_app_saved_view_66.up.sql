COMMENT ON TABLE app_saved_view_66 IS 'Owned by the product team (revision 191).';
