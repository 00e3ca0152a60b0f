"""Appending to the chain: one writer at a time, each event once.

Appends take a PostgreSQL advisory lock for the transaction, so concurrent batches (several
partitions, several replicas) extend the chain one after the other and it never forks. Event
ids already in the log are skipped: a redelivered event is not appended twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from modelgate_audit.canonical import canonical_bytes, entry_document
from modelgate_audit.entries import describe
from modelgate_audit.hash_chain import GENESIS, link

APPEND_LOCK = 0x6D67_6175_6469_7431  # "mgaudit1"
COLUMNS = [
    "seq",
    "event_id",
    "event_type",
    "topic",
    "subject",
    "model",
    "version",
    "action",
    "actor",
    "from_stage",
    "to_stage",
    "approver",
    "reason",
    "event_time",
    "recorded_at",
    "canonical",
    "prev_hash",
    "hash",
]


def row_for(
    seq: int, prev_hash: bytes, topic: str, event: dict[str, Any], recorded_at: datetime
) -> tuple[Any, ...]:
    canonical = canonical_bytes(entry_document(seq, recorded_at, topic, event))
    said = describe(event)
    return (
        seq,
        UUID(str(event["id"])),
        event["type"],
        topic,
        said.subject,
        said.model,
        said.version,
        said.action,
        said.actor,
        said.from_stage,
        said.to_stage,
        said.approver,
        said.reason,
        said.event_time,
        recorded_at,
        canonical,
        prev_hash,
        link(prev_hash, canonical),
    )


class AuditLog:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def append(self, items: Sequence[tuple[str, dict[str, Any]]]) -> dict[UUID, int]:
        """Append (topic, CloudEvent JSON) pairs in order; returns the new entries' sequence
        numbers by event id (events already in the log are not there)."""
        ids = [UUID(str(event["id"])) for _, event in items]
        async with self.pool.acquire() as conn, conn.transaction():
            # The lock first, on its own: a statement reads from a snapshot taken as it starts,
            # so the head must be read by a statement that starts once the lock is held.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", APPEND_LOCK)
            # Which of these events are in the log already, and the head: one round trip.
            found = await conn.fetchrow(
                "SELECT h.seq, h.hash, (SELECT array_agg(event_id) FROM audit.log "
                "WHERE event_id = ANY($1::uuid[])) AS known FROM (SELECT) AS one "
                "LEFT JOIN LATERAL (SELECT seq, hash FROM audit.log ORDER BY seq DESC LIMIT 1) "
                "AS h ON true",
                ids,
            )
            assert found is not None  # always one row: a LEFT JOIN from a one-row table
            known = set(found["known"] or ())
            head_seq = found["seq"]
            seq, prev = (head_seq, bytes(found["hash"])) if head_seq is not None else (0, GENESIS)
            recorded_at = datetime.now(UTC)
            rows = []
            appended: dict[UUID, int] = {}
            for (topic, event), event_id in zip(items, ids, strict=True):
                if event_id in known:
                    continue
                known.add(event_id)
                seq += 1
                appended[event_id] = seq
                row = row_for(seq, prev, topic, event, recorded_at)
                prev = row[-1]
                rows.append(row)
            if rows:
                await conn.copy_records_to_table(
                    "log", schema_name="audit", records=rows, columns=COLUMNS
                )
        return appended


def event_json(
    document: dict[str, Any] | None, fallback: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """The event as received: the structured-mode document the consumer's codec parsed,
    unknown fields included. The decoded event where there is no such document (binary mode,
    whose attributes travel in headers) or it has no `specversion` (which the envelope fills
    in). `fallback` is called only then: dumping every decoded event for nothing cost a
    pydantic round trip per entry."""
    if document is not None and document.get("specversion"):
        return document
    return fallback()
