COMMENT ON TABLE app_subscription_200 IS 'Owned by the product team (revision 328).';
