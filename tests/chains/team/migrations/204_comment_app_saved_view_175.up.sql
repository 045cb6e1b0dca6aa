COMMENT ON TABLE app_saved_view_175 IS 'Owned by the product team (revision 204).';
