#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
# Creates the plain role Palisade connects as: no superuser, no BYPASSRLS, so the
# per-organisation row-level security policies bind it. It owns its database so it can run
# the migrations; FORCE ROW LEVEL SECURITY makes the policies bind the owner too.
set -eu
: "${PALISADE_DB_PASSWORD:?set PALISADE_DB_PASSWORD in .env next to compose.yaml}"
# the password travels as a psql variable, quoted by psql (:'pw'), never spliced into SQL text
psql -v ON_ERROR_STOP=1 -v pw="$PALISADE_DB_PASSWORD" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE palisade LOGIN PASSWORD :'pw' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
CREATE DATABASE palisade OWNER palisade;
REVOKE ALL ON DATABASE palisade FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE palisade TO palisade;
SQL
