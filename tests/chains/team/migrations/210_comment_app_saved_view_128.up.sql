COMMENT ON TABLE app_saved_view_128 IS 'Owned by the product team (revision 210).';
