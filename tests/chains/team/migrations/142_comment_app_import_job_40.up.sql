COMMENT ON TABLE app_import_job_40 IS 'Owned by the product team (revision 142).';
