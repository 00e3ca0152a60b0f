"""asyncpg pools with JSON codecs, so jsonb columns read and write Python values."""

from __future__ import annotations

import json

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from pydantic_core import from_json

# Anything statements can run on: a pool, a connection, or a connection borrowed from a pool.
Connection = asyncpg.Connection | PoolConnectionProxy
Executor = asyncpg.Pool | asyncpg.Connection | PoolConnectionProxy


async def init_connection(conn: asyncpg.Connection) -> None:
    """JSON codecs for json and jsonb (also for connections made outside a pool). Values are
    read with pydantic-core's parser, the same Python values as `json.loads` gives for the
    JSON PostgreSQL writes, in a third of the time (a catalog page decodes one document per
    row)."""
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=from_json, schema="pg_catalog")


async def keep_session(conn: asyncpg.Connection) -> None:
    """Hand a connection back to the pool as it is.

    asyncpg's default reset sends `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`
    on every release: a round trip and four statements per request, a tenth of a catalog read
    under load. Pooled connections here never take session state (advisory locks are
    transaction-scoped, cursors live inside transactions, LISTEN uses its own connection,
    nothing runs SET), and asyncpg still rolls back a transaction left open before calling
    this, so there is nothing to undo.
    """


async def create_pool(
    url: str, *, min_size: int = 2, max_size: int = 10, application_name: str | None = None
) -> asyncpg.Pool:
    """`application_name` names the service in pg_stat_activity (who holds which session)."""
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        reset=keep_session,
        # A restarted PostgreSQL leaves dead connections in the pool; recycle idle ones.
        max_inactive_connection_lifetime=60,
        server_settings={"application_name": application_name} if application_name else None,
    )
    assert pool is not None
    return pool


async def ping(pool: asyncpg.Pool) -> None:
    async with pool.acquire(timeout=2) as conn:
        await conn.fetchval("SELECT 1")
