COMMENT ON TABLE app_invite_97 IS 'Owned by the product team (revision 355).';
