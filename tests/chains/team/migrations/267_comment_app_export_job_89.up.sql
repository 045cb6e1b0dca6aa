COMMENT ON TABLE app_export_job_89 IS 'Owned by the product team (revision 267).';
