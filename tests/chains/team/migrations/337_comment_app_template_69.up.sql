COMMENT ON TABLE app_template_69 IS 'Owned by the product team (revision 337).';
