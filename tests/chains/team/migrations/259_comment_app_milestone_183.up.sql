COMMENT ON TABLE app_milestone_183 IS 'Owned by the product team (revision 259).';
