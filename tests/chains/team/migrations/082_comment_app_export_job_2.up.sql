COMMENT ON TABLE app_export_job_2 IS 'Owned by the product team (revision 82).';
