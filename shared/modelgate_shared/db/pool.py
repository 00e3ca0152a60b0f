"""asyncpg pools with JSON codecs, so jsonb columns read and write Python values."""

from __future__ import annotations

import json

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# Anything statements can run on: a pool, a connection, or a connection borrowed from a pool.
Connection = asyncpg.Connection | PoolConnectionProxy
Executor = asyncpg.Pool | asyncpg.Connection | PoolConnectionProxy


async def init_connection(conn: asyncpg.Connection) -> None:
    """JSON codecs for json and jsonb (also for connections made outside a pool)."""
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        # A restarted PostgreSQL leaves dead connections in the pool; recycle idle ones.
        max_inactive_connection_lifetime=60,
    )
    assert pool is not None
    return pool


async def ping(pool: asyncpg.Pool) -> None:
    async with pool.acquire(timeout=2) as conn:
        await conn.fetchval("SELECT 1")
