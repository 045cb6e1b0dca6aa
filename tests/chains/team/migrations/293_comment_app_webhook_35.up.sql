COMMENT ON TABLE app_webhook_35 IS 'Owned by the product team (revision 293).';
