"""`validator.validations`: claim submissions, keep their results, mark them published.

The three states make a crash at any point harmless: `running` (redo the checks), `ready`
(publish the stored result again, same event id), `published` (nothing to do). Every operation
takes a whole batch in one statement: per-submission round trips were most of the validator's
database time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg


@dataclass(frozen=True)
class Claim:
    state: str
    result: str | None
    attempts: int


class ValidationRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def claim(self, items: Sequence[tuple[UUID, UUID, UUID]]) -> dict[UUID, Claim]:
        """Claim (event id, submission id, answer id) triples; returns each event's state."""
        rows = await self.pool.fetch(
            """
            INSERT INTO validator.validations AS v
                (event_id, submission_id, validated_event_id, state)
            SELECT e, s, a, 'running'
            FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS t(e, s, a)
            ON CONFLICT (event_id) DO UPDATE SET attempts = v.attempts + 1
            RETURNING event_id, state, result, attempts
            """,
            [i[0] for i in items],
            [i[1] for i in items],
            [i[2] for i in items],
        )
        return {r["event_id"]: Claim(r["state"], r["result"], r["attempts"]) for r in rows}

    async def store_results(self, results: Sequence[tuple[UUID, str]]) -> None:
        if not results:
            return
        await self.pool.execute(
            """
            UPDATE validator.validations AS v SET state = 'ready', result = t.r,
                finished_at = now()
            FROM unnest($1::uuid[], $2::text[]) AS t(e, r)
            WHERE v.event_id = t.e AND v.state = 'running'
            """,
            [r[0] for r in results],
            [r[1] for r in results],
        )

    async def mark_published(self, event_ids: Sequence[UUID]) -> None:
        if not event_ids:
            return
        await self.pool.execute(
            "UPDATE validator.validations SET state = 'published', published_at = now() "
            "WHERE event_id = ANY($1::uuid[])",
            list(event_ids),
        )
