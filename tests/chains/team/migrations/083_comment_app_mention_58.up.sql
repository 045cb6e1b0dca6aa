COMMENT ON TABLE app_mention_58 IS 'Owned by the product team (revision 83).';
