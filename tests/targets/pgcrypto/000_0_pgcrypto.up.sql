-- A chain whose first migration needs an extension, as upstream's does (pgcrypto); the embedded
-- PostgreSQL 18 does not ship it, the machine's PostgreSQL 15 (contrib) does.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- Used, so a server that only pretends to have it fails here.
SELECT digest('rollup-bench', 'sha256');
