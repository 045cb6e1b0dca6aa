COMMENT ON TABLE app_label_17 IS 'Owned by the product team (revision 54).';
