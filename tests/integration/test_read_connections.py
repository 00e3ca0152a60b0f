"""The registry's dedicated read connections against the real PostgreSQL: a connection that
PostgreSQL ends while it is idle (what a restart does to all of them) costs no read an error."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from modelgate_registry.store.read_connections import ReadConnections
from modelgate_testkit.namespace import Namespace

pytestmark = pytest.mark.integration

NAME = "modelgate-test-read-connections"


async def test_reads_after_postgresql_ended_the_idle_connections(namespace: Namespace) -> None:
    reads = ReadConnections(namespace.database_url, 2, application_name=NAME)
    admin = await asyncpg.connect(namespace.database_url)
    try:
        # Two reads at once: both connections are opened, then idle.
        one, two = await asyncio.gather(reads.fetchrow("SELECT 1 AS one"), reads.fetch("SELECT 2"))
        assert one is not None
        assert one["one"] == 1
        assert [tuple(r) for r in two] == [(2,)]
        before = await _backends(admin)
        assert len(before) == 2
        ended = [await admin.fetchval("SELECT pg_terminate_backend($1)", pid) for pid in before]
        assert ended == [True, True]
        await asyncio.sleep(0.5)  # the sockets' end reaches asyncpg

        for _ in range(3):  # each read once failed on a dead connection
            row = await reads.fetchrow("SELECT 3 AS three")
            assert row is not None
            assert row["three"] == 3
        after = await _backends(admin)
        assert after
        assert not set(after) & set(before)
    finally:
        await reads.close()
        await admin.close()


async def _backends(admin: asyncpg.Connection) -> list[int]:
    rows = await admin.fetch("SELECT pid FROM pg_stat_activity WHERE application_name = $1", NAME)
    return [r["pid"] for r in rows]
