"""Appends a batch's transaction writes at its end, in one statement.

A consumer's batch is one transaction; every event in it used to insert its history rows and
its outbox rows, point its model artifact at the pinned copy and take its model's next event
sequence number, one statement (one round trip) each. Inside `deferred_writes(conn)` they are
kept and written when the batch's work is done, still in that transaction, by one statement
of data-modifying CTEs (each runs, referenced or not):

- history and outbox rows in the order they were made: `unnest` yields the arrays' elements
  in order, so the rows get ids in that order, and each model's outbox rows stay in the order
  of its changes (the model rows are locked until the commit, as before);
- each model's last sequence number: counted here from the value its locked row had when the
  batch read it (no other transaction can move it while the lock is held);
- each version's model artifact pointed at its pinned root (added where it has none).

Nothing in a batch reads these back before the commit. Outside it (HTTP commands, one change
per transaction) each is written at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from modelgate_shared.db.pool import Executor

# Each a CTE (or several) of the one statement: `{n}` names it, `{0}`, `{1}`, ... are its
# parameters (`_one_statement` numbers them). Data-modifying CTEs must be at the top level.
TRANSITIONS_SQL = (
    "{n} AS (INSERT INTO registry.transitions (version_id, kind, from_value, to_value, actor, "
    "approver, reason) SELECT * FROM unnest({0}::bigint[], {1}::text[], {2}::text[], "
    "{3}::text[], {4}::text[], {5}::text[], {6}::text[]))"
)
OUTBOX_SQL = (
    "{n} AS (INSERT INTO registry.outbox (event_id, topic, key, payload, headers) "
    "SELECT * FROM unnest({0}::uuid[], {1}::text[], {2}::bytea[], {3}::bytea[], {4}::jsonb[]))"
)
SEQUENCES_SQL = (
    "{n} AS (UPDATE registry.models m SET sequence = s.sequence "
    "FROM unnest({0}::bigint[], {1}::bigint[]) AS s(id, sequence) WHERE m.id = s.id)"
)
PINS_SQL = (
    # The model artifact of each version pointed at its pinned root, or added where the
    # version has none (`artifacts.pin_model_artifact`, for many versions at once).
    "{n}_p AS (SELECT * FROM unnest({0}::bigint[], {1}::text[], {2}::text[], {3}::jsonb[]) "
    "AS p(version_id, uri, name, properties)), "
    "{n}_r AS (UPDATE registry.artifacts a SET uri = p.uri, updated_at = now() FROM {n}_p p "
    "WHERE a.version_id = p.version_id AND a.artifact_type = 'model-artifact' "
    "RETURNING a.version_id), "
    "{n} AS (INSERT INTO registry.artifacts (version_id, name, uri, state, properties) "
    "SELECT p.version_id, p.name, p.uri, 'LIVE', p.properties FROM {n}_p p "
    "WHERE p.version_id NOT IN (SELECT version_id FROM {n}_r))"
)


@dataclass
class Deferred:
    conn: Executor
    transitions: list[tuple[Any, ...]] = field(default_factory=list)
    outbox: list[tuple[Any, ...]] = field(default_factory=list)
    sequences: dict[int, int] = field(default_factory=dict)
    """Model id -> the last sequence number this batch gave out."""
    pins: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    """Version id -> (version id, pinned uri, artifact name, properties)."""

    def next_sequence(self, model_id: int, locked: int) -> int:
        """The model's next sequence number; `locked`: the value its row had when this
        transaction locked it (earlier numbers of this batch are not written yet)."""
        number = max(self.sequences.get(model_id, 0), locked) + 1
        self.sequences[model_id] = number
        return number

    async def flush(self) -> None:
        parts: list[tuple[str, list[list[Any]]]] = []
        if self.transitions:
            parts.append((TRANSITIONS_SQL, _columns(self.transitions, 7)))
        if self.outbox:
            parts.append((OUTBOX_SQL, _columns(self.outbox, 5)))
        if self.sequences:
            parts.append((SEQUENCES_SQL, [list(self.sequences), list(self.sequences.values())]))
        if self.pins:
            parts.append((PINS_SQL, _columns(list(self.pins.values()), 4)))
        if not parts:
            return
        sql, args = _one_statement(parts)
        await self.conn.execute(sql, *args)
        self.transitions.clear()
        self.outbox.clear()
        self.sequences.clear()
        self.pins.clear()


def _one_statement(parts: list[tuple[str, list[list[Any]]]]) -> tuple[str, list[Any]]:
    """The parts as the CTEs of one statement, their parameters numbered in turn."""
    args: list[Any] = []
    ctes: list[str] = []
    for n, (template, columns) in enumerate(parts):
        numbers = [f"${i}" for i in range(len(args) + 1, len(args) + 1 + len(columns))]
        ctes.append(template.format(*numbers, n=f"w{n}"))
        args.extend(columns)
    return f"WITH {', '.join(ctes)} SELECT 1", args


_CURRENT: ContextVar[Deferred | None] = ContextVar("registry_deferred_writes", default=None)


def deferred(conn: Executor) -> Deferred | None:
    """The writes being kept for `conn`'s transaction, if its caller asked for that."""
    current = _CURRENT.get()
    return current if current is not None and current.conn is conn else None


@asynccontextmanager
async def deferred_writes(conn: Executor) -> AsyncIterator[Deferred]:
    """Keep `conn`'s history and outbox rows, sequence numbers and artifact pins until the
    block is done, then write them (an error in the block discards them with the transaction
    it rolls back)."""
    current = Deferred(conn)
    token = _CURRENT.set(current)
    try:
        yield current
        await current.flush()
    finally:
        _CURRENT.reset(token)


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]
