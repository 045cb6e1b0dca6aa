COMMENT ON TABLE app_mention_107 IS 'Owned by the product team (revision 262).';
