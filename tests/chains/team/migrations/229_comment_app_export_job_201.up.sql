COMMENT ON TABLE app_export_job_201 IS 'Owned by the product team (revision 229).';
