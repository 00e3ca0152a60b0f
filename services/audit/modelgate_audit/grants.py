"""The audit service's database role: it may read and append, and nothing else."""

from __future__ import annotations

from urllib.parse import urlsplit

import asyncpg


def role_of(url: str) -> str | None:
    return urlsplit(url).username


async def grant_append_only(owner_url: str, role: str) -> None:
    """Run as the schema owner after migrations: SELECT and INSERT on audit.log for `role`."""
    conn = await asyncpg.connect(owner_url)
    try:
        quoted = await conn.fetchval("SELECT quote_ident($1)", role)
        await conn.execute(f"GRANT USAGE ON SCHEMA audit TO {quoted}")
        await conn.execute(f"REVOKE ALL ON audit.log FROM {quoted}")
        await conn.execute(f"GRANT SELECT, INSERT ON audit.log TO {quoted}")
    finally:
        await conn.close()
