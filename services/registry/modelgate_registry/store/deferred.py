"""Appends a batch's transaction writes at its end, one multi-row statement per table.

A consumer's batch is one transaction; every event in it used to insert its history rows and
its outbox rows one statement (one round trip) each. Inside `deferred_writes(conn)` they are
kept and inserted when the batch's work is done, still in that transaction and in the order
they were made: `unnest` yields the arrays' elements in order, so the rows get ids in that
order, and each model's outbox rows stay in the order of its changes (the model rows are
locked until the commit, as before). Nothing in a batch reads these tables back before the
commit. Outside it (HTTP commands, one change per transaction) rows are inserted at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from modelgate_shared.db.pool import Executor

TRANSITIONS_SQL = (
    "INSERT INTO registry.transitions (version_id, kind, from_value, to_value, actor, "
    "approver, reason) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], "
    "$5::text[], $6::text[], $7::text[])"
)
OUTBOX_SQL = (
    "INSERT INTO registry.outbox (event_id, topic, key, payload, headers) "
    "SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::bytea[], $5::jsonb[])"
)


@dataclass
class Deferred:
    conn: Executor
    transitions: list[tuple[Any, ...]] = field(default_factory=list)
    outbox: list[tuple[Any, ...]] = field(default_factory=list)

    async def flush(self) -> None:
        if self.transitions:
            await self.conn.execute(TRANSITIONS_SQL, *_columns(self.transitions, 7))
            self.transitions.clear()
        if self.outbox:
            await self.conn.execute(OUTBOX_SQL, *_columns(self.outbox, 5))
            self.outbox.clear()


_CURRENT: ContextVar[Deferred | None] = ContextVar("registry_deferred_writes", default=None)


def deferred(conn: Executor) -> Deferred | None:
    """The writes being kept for `conn`'s transaction, if its caller asked for that."""
    current = _CURRENT.get()
    return current if current is not None and current.conn is conn else None


@asynccontextmanager
async def deferred_writes(conn: Executor) -> AsyncIterator[Deferred]:
    """Keep `conn`'s history and outbox rows until the block is done, then insert them (an
    error in the block discards them with the transaction it rolls back)."""
    current = Deferred(conn)
    token = _CURRENT.set(current)
    try:
        yield current
        await current.flush()
    finally:
        _CURRENT.reset(token)


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]
