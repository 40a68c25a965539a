#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
# Creates Palisade's two plain roles (no superuser, no BYPASSRLS, so the per-organisation
# row-level security policies bind them): `palisade` owns the database and runs the
# migrations (DATABASE_MIGRATION_URL); `palisade_runtime` serves requests (DATABASE_URL) and
# owns nothing: it cannot turn RLS off, and the server grants it only the DML it needs
# (audit_log: INSERT and SELECT only) at every start.
set -eu
: "${PALISADE_DB_PASSWORD:?set PALISADE_DB_PASSWORD in .env next to compose.yaml}"
: "${PALISADE_DB_RUNTIME_PASSWORD:?set PALISADE_DB_RUNTIME_PASSWORD in .env next to compose.yaml}"
# the password travels as a psql variable, quoted by psql (:'pw'), never spliced into SQL text
psql -v ON_ERROR_STOP=1 -v pw="$PALISADE_DB_PASSWORD" -v rpw="$PALISADE_DB_RUNTIME_PASSWORD" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE palisade LOGIN PASSWORD :'pw' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
CREATE ROLE palisade_runtime LOGIN PASSWORD :'rpw' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
CREATE DATABASE palisade OWNER palisade;
REVOKE ALL ON DATABASE palisade FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE palisade TO palisade;
GRANT CONNECT ON DATABASE palisade TO palisade_runtime;
SQL
