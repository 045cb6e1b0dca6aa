COMMENT ON TABLE app_digest_116 IS 'Owned by the product team (revision 298).';
