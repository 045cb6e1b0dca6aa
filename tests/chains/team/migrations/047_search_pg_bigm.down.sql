DROP INDEX IF EXISTS idx_issue_title_bigm;
