#!/bin/sh
# Runs once, when the postgres container initialises its data directory: each service's own
# role (docs/database-roles.md). POSTGRES_USER (modelgate) owns the schemas and runs the
# migration step (the *-migrate services), which grants each role exactly what its service
# needs; the roles get nothing here beyond logging in.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v registry_password="$REGISTRY_DB_PASSWORD" \
  -v ingest_password="$INGEST_DB_PASSWORD" \
  -v validator_password="$VALIDATOR_DB_PASSWORD" \
  -v audit_password="$AUDIT_DB_PASSWORD" <<'EOSQL'
CREATE ROLE modelgate_registry LOGIN PASSWORD :'registry_password';
CREATE ROLE modelgate_ingest LOGIN PASSWORD :'ingest_password';
CREATE ROLE modelgate_validator LOGIN PASSWORD :'validator_password';
CREATE ROLE modelgate_audit LOGIN PASSWORD :'audit_password';
EOSQL
