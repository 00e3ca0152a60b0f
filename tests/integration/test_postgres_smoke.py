"""The PostgreSQL of the stack is real: a rolled-back transaction leaves nothing behind."""

from __future__ import annotations

import asyncpg
import pytest

from modelgate_testkit.namespace import Namespace

pytestmark = pytest.mark.integration


async def test_rolled_back_transaction_leaves_nothing(namespace: Namespace) -> None:
    conn = await asyncpg.connect(namespace.database_url)
    try:
        await conn.execute("CREATE TABLE smoke_rollback (id int PRIMARY KEY, note text)")
        tx = conn.transaction()
        await tx.start()
        await conn.execute("INSERT INTO smoke_rollback VALUES (1, 'gone'), (2, 'gone too')")
        assert await conn.fetchval("SELECT count(*) FROM smoke_rollback") == 2
        await tx.rollback()
        assert await conn.fetchval("SELECT count(*) FROM smoke_rollback") == 0

        other = await asyncpg.connect(namespace.database_url)
        try:
            assert await other.fetchval("SELECT count(*) FROM smoke_rollback") == 0
        finally:
            await other.close()
    finally:
        await conn.close()
