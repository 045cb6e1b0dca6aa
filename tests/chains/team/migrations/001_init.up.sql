-- The team's first migration: pgcrypto for API token digests, then the users and workspaces.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE api_key (
    id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    secret     TEXT NOT NULL DEFAULT encode(gen_random_bytes(24), 'hex'),
    digest     BYTEA GENERATED ALWAYS AS (digest(secret, 'sha256')) STORED
);

CREATE TABLE "user" (
    id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name       TEXT NOT NULL,
    email      TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE workspace (
    id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name       TEXT NOT NULL,
    slug       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
