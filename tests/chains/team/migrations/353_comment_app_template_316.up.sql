COMMENT ON TABLE app_template_316 IS 'Owned by the product team (revision 353).';
