COMMENT ON TABLE app_mention_368 IS 'Owned by the product team (revision 388).';
