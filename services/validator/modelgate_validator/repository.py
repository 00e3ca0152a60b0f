"""`validator.validations`: claim a submission, keep its result, mark it published.

The three states make a crash at any point harmless: `running` (redo the checks), `ready`
(publish the stored result again, same event id), `published` (nothing to do).
"""

from __future__ import annotations

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

    async def claim(self, event_id: UUID, submission_id: UUID, validated_id: UUID) -> Claim:
        row = await self.pool.fetchrow(
            """
            INSERT INTO validator.validations AS v
                (event_id, submission_id, validated_event_id, state)
            VALUES ($1, $2, $3, 'running')
            ON CONFLICT (event_id) DO UPDATE SET attempts = v.attempts + 1
            RETURNING state, result, attempts
            """,
            event_id,
            submission_id,
            validated_id,
        )
        assert row is not None
        return Claim(row["state"], row["result"], row["attempts"])

    async def store_result(self, event_id: UUID, result: str) -> None:
        await self.pool.execute(
            "UPDATE validator.validations SET state = 'ready', result = $2, finished_at = now() "
            "WHERE event_id = $1 AND state = 'running'",
            event_id,
            result,
        )

    async def mark_published(self, event_id: UUID) -> None:
        await self.pool.execute(
            "UPDATE validator.validations SET state = 'published', published_at = now() "
            "WHERE event_id = $1",
            event_id,
        )
