"""The registry service's PostgreSQL schema: its migrations, and what its own role may do."""

from __future__ import annotations

from pathlib import Path

from modelgate_shared.db.access import READ_WRITE, ServiceSchema

SCHEMA = ServiceSchema(
    service="registry",
    schema="registry",
    migrations=Path(__file__).parent / "migrations",
    table_privileges=READ_WRITE,
)
