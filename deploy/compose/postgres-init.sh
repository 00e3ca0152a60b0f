#!/bin/sh
# Runs once, when the postgres container initialises its data directory: the audit service's
# own role, which the audit service grants SELECT and INSERT on its log (nothing else).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v audit_password="$AUDIT_DB_PASSWORD" <<'EOSQL'
CREATE ROLE modelgate_audit LOGIN PASSWORD :'audit_password';
EOSQL
