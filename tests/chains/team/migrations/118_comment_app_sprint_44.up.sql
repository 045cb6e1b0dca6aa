COMMENT ON TABLE app_sprint_44 IS 'Owned by the product team (revision 118).';
