COMMENT ON TABLE app_label_106 IS 'Owned by the product team (revision 138).';
