COMMENT ON TABLE app_reaction_18 IS 'Owned by the product team (revision 23).';
