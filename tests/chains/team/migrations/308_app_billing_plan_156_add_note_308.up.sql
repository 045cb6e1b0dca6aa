ALTER TABLE app_billing_plan_156 ADD COLUMN note_308 TEXT;
