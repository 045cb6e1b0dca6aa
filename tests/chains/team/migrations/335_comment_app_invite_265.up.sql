COMMENT ON TABLE app_invite_265 IS 'Owned by the product team (revision 335).';
