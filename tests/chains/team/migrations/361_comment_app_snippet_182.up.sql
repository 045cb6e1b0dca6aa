COMMENT ON TABLE app_snippet_182 IS 'Owned by the product team (revision 361).';
