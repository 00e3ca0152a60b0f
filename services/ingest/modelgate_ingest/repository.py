"""The `ingest.submissions` table: one row per submission, moved forward by events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg

from modelgate_ingest.status import FINAL, RANK, SubmissionStatus
from modelgate_shared.db.pool import Connection
from modelgate_shared.events import ModelSubmitted

_RANK_SQL = (
    "CASE {col} "
    + " ".join(f"WHEN '{status.value}' THEN {rank}" for status, rank in RANK.items())
    + " END"
)
# Serialises, per submission, "is there a row?" against "make the row": without it an outcome
# stashed for a missing row and the row's creation could each miss the other's uncommitted
# write. Taken in a batch's lock order (by submission), like the row locks.
_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text, 18))"
# The same locks for a whole batch, one round trip: unnest yields the ids in array order, so
# they are taken in the order given.
_LOCK_ALL_SQL = (
    "SELECT count(pg_advisory_xact_lock(hashtextextended(s::text, 18))) "
    "FROM unnest($1::uuid[]) AS s"
)


class SubmissionRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def get(self, submission_id: UUID) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(
            "SELECT * FROM ingest.submissions WHERE submission_id = $1", submission_id
        )
        return dict(row) if row else None

    async def by_idempotency_key(self, submitter: str, key: str) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(
            "SELECT * FROM ingest.submissions WHERE submitter = $1 AND idempotency_key = $2",
            submitter,
            key,
        )
        return dict(row) if row else None

    @staticmethod
    async def lock(conn: Connection, submission_ids: Sequence[UUID]) -> None:
        """Take the per-submission locks of `record` and `advance` for these submissions, in
        this order, for the rest of the caller's transaction (then call those with
        `locked=True`): a batch's locks in one round trip instead of one per event."""
        if submission_ids:
            await conn.fetchval(_LOCK_ALL_SQL, list(submission_ids))

    async def record(
        self,
        submission: ModelSubmitted,
        status: SubmissionStatus,
        *,
        event_id: UUID | None = None,
        idempotency_key: str | None = None,
        request_digest: str | None = None,
        conn: Connection | None = None,
        locked: bool = False,
    ) -> None:
        """Insert the submission, or move it forward to `status` (never back); an outcome the
        registry announced before the row existed is applied now. `locked`: the caller took
        the submission's lock (`lock`) in its transaction `conn`."""
        # One statement: the upsert, and taking the waiting outcome (a data-modifying CTE
        # always runs; the two touch different tables).
        sql = f"""
            WITH upsert AS (
            INSERT INTO ingest.submissions AS s
                (submission_id, name, version, submitter, status, artifact_uri, event_id,
                 idempotency_key, request_digest)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (submission_id) DO UPDATE SET
                status = EXCLUDED.status,
                event_id = COALESCE(s.event_id, EXCLUDED.event_id),
                updated_at = now()
            WHERE {_RANK_SQL.format(col="s.status")} < {_RANK_SQL.format(col="EXCLUDED.status")}
            RETURNING 1)
            DELETE FROM ingest.early_outcomes WHERE submission_id = $1 RETURNING *
        """  # noqa: S608 (no user input in the formatted parts)
        async with self._locked(submission.submission_id, conn, locked) as tx:
            early = await _upsert(
                tx, sql, submission, status, event_id, idempotency_key, request_digest
            )
            if early is not None:
                await self._apply_early(submission.submission_id, early, tx)

    async def record_verdict(
        self,
        submission: ModelSubmitted,
        status: SubmissionStatus,
        *,
        verdict: str,
        checks: list[dict[str, Any]],
        detail: str,
        conn: Connection | None = None,
        locked: bool = False,
    ) -> None:
        """What a verdict says, in one statement: `record` (the verdict carries the whole
        submission, and may be the first ingest hears of it) followed by `advance` to
        `status` with the verdict, checks and detail, as one upsert. `locked` as in `record`.
        """
        rank_of = _RANK_SQL.format
        # An outcome the registry announced before the row existed is taken in the same
        # statement; the row is then made as `validating`, as `record` alone makes it, and
        # the outcome and the verdict are applied after it in that order, as before the
        # merge (`registered` and `rejected` rank alike: the first applied stands).
        sql = f"""
            WITH early AS (
                DELETE FROM ingest.early_outcomes WHERE submission_id = $1 RETURNING *),
            upsert AS (
            INSERT INTO ingest.submissions AS s
                (submission_id, name, version, submitter, status, artifact_uri, verdict,
                 checks, detail)
            SELECT $1, $2, $3, $4,
                   CASE WHEN EXISTS (SELECT FROM early) THEN 'validating' ELSE $5 END,
                   $6, $7, $8::jsonb, $9
            ON CONFLICT (submission_id) DO UPDATE SET
                status = CASE WHEN {rank_of(col="s.status")} < {rank_of(col="EXCLUDED.status")}
                              THEN EXCLUDED.status ELSE s.status END,
                verdict = COALESCE(EXCLUDED.verdict, s.verdict),
                checks = COALESCE(EXCLUDED.checks, s.checks),
                -- Once final, a verdict that is not does not rewrite the reason (`advance`).
                detail = CASE WHEN {rank_of(col="s.status")} = {FINAL}
                               AND {rank_of(col="EXCLUDED.status")} <> {FINAL}
                              THEN s.detail ELSE COALESCE(EXCLUDED.detail, s.detail) END,
                updated_at = now()
            RETURNING 1)
            SELECT * FROM early
        """  # noqa: S608 (no user input in the formatted parts)
        async with self._locked(submission.submission_id, conn, locked) as tx:
            early = await _upsert(tx, sql, submission, status, verdict, checks, detail)
            if early is None:
                return
            await self._apply_early(submission.submission_id, early, tx)
            await self.advance(
                submission.submission_id,
                status,
                verdict=verdict,
                checks=checks,
                detail=detail,
                conn=tx,
                locked=True,
            )

    async def _apply_early(
        self, submission_id: UUID, early: asyncpg.Record, tx: Connection
    ) -> None:
        """The outcome the registry announced before the row existed, taken from
        `ingest.early_outcomes` by the statement that made the row."""
        await self.advance(
            submission_id,
            SubmissionStatus(early["status"]),
            detail=early["detail"],
            model_id=early["model_id"],
            version_id=early["version_id"],
            conn=tx,
            locked=True,
        )

    @asynccontextmanager
    async def _locked(
        self, submission_id: UUID, conn: Connection | None, locked: bool
    ) -> AsyncIterator[Connection]:
        """The caller's transaction, or one of our own, holding the submission's lock (taken
        here unless `locked` says the caller's transaction `conn` holds it already)."""
        if conn is not None:
            if not locked:
                await conn.execute(_LOCK_SQL, submission_id)
            yield conn
            return
        async with self.pool.acquire() as own, own.transaction():
            await own.execute(_LOCK_SQL, submission_id)
            yield own

    async def advance(
        self,
        submission_id: UUID,
        status: SubmissionStatus,
        *,
        verdict: str | None = None,
        checks: list[dict[str, Any]] | None = None,
        detail: str | None = None,
        model_id: int | None = None,
        version_id: int | None = None,
        conn: Connection | None = None,
        locked: bool = False,
    ) -> None:
        """Record what an event says; the status only ever moves forward. A final outcome for
        a submission without a row yet waits in `ingest.early_outcomes` for `record`.
        `locked` as in `record`."""
        final = _RANK_SQL.format(col="status") + f" = {FINAL}"
        becomes_final = _RANK_SQL.format(col="$2::text") + f" = {FINAL}"
        sql = f"""
            UPDATE ingest.submissions SET
                status = CASE WHEN {_RANK_SQL.format(col="status")}
                              < {_RANK_SQL.format(col="$2::text")} THEN $2 ELSE status END,
                verdict = COALESCE($3, verdict),
                checks = COALESCE($4::jsonb, checks),
                -- Once final, a late event from another topic does not rewrite the reason.
                detail = CASE WHEN {final} AND NOT {becomes_final} THEN detail
                              ELSE COALESCE($5, detail) END,
                model_id = COALESCE($6, model_id),
                version_id = COALESCE($7, version_id),
                updated_at = now()
            WHERE submission_id = $1
        """  # noqa: S608
        async with self._locked(submission_id, conn, locked) as tx:
            done = await tx.execute(
                sql, submission_id, status.value, verdict, checks, detail, model_id, version_id
            )
            if done == "UPDATE 0" and RANK[status] >= RANK[SubmissionStatus.PENDING_REVIEW]:
                # As on a row, the status only moves forward and the first final outcome
                # stands: a waiting review is replaced by its decision, never the reverse.
                await tx.execute(
                    "INSERT INTO ingest.early_outcomes AS e "  # noqa: S608 (constants only)
                    "(submission_id, status, detail, model_id, version_id) "
                    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (submission_id) DO UPDATE SET "
                    "status = EXCLUDED.status, detail = EXCLUDED.detail, "
                    "model_id = EXCLUDED.model_id, version_id = EXCLUDED.version_id "
                    f"WHERE {_RANK_SQL.format(col='e.status')} "
                    f"< {_RANK_SQL.format(col='EXCLUDED.status')}",
                    submission_id,
                    status.value,
                    detail or "",
                    model_id,
                    version_id,
                )


async def _upsert(
    tx: Connection, sql: str, submission: ModelSubmitted, status: SubmissionStatus, *rest: Any
) -> asyncpg.Record | None:
    """Run an upsert of the submission's row whose first six parameters are its id, name,
    version, submitter, `status` and artifact URI, then `rest`; returns the early outcome it
    took, if any."""
    return await tx.fetchrow(
        sql,
        submission.submission_id,
        submission.name,
        submission.version,
        submission.submitter,
        status.value,
        submission.artifact.uri,
        *rest,
    )
