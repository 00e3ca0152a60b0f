"""The audit service's PostgreSQL schema: its migrations, and what the service's role may do.

Read and append only: the role cannot UPDATE, DELETE or TRUNCATE `audit.log`, and, not owning
it, cannot ALTER it or disable its triggers either. The owner (migrator) role, which no
running service uses, is the only one that could.
"""

from __future__ import annotations

from pathlib import Path

from modelgate_shared.db.access import APPEND_ONLY, ServiceSchema

SCHEMA = ServiceSchema(
    service="audit",
    schema="audit",
    migrations=Path(__file__).parent / "migrations",
    table_privileges=APPEND_ONLY,
    sequences=False,
)
