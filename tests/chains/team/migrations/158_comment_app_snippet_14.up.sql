COMMENT ON TABLE app_snippet_14 IS 'Owned by the product team (revision 158).';
