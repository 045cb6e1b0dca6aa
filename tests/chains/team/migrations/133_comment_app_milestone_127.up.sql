COMMENT ON TABLE app_milestone_127 IS 'Owned by the product team (revision 133).';
