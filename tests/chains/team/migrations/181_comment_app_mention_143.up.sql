COMMENT ON TABLE app_mention_143 IS 'Owned by the product team (revision 181).';
