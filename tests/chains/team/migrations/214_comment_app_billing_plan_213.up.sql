COMMENT ON TABLE app_billing_plan_213 IS 'Owned by the product team (revision 214).';
