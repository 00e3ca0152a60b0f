"""What ingest does with the events it consumes: keep each submission's status current."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from modelgate_ingest.repository import SubmissionRepository
from modelgate_ingest.status import SubmissionStatus
from modelgate_shared.db.pool import Connection
from modelgate_shared.events import (
    REGISTERED,
    SUBMITTED,
    TRANSITIONED,
    VALIDATED,
    CheckStatus,
    ModelRegistered,
    ModelSubmitted,
    ModelTransitioned,
    ModelValidated,
    TransitionKind,
    Verdict,
    VersionStatus,
)
from modelgate_shared.kafka.consumer import Received

_STATUS_OUTCOMES = {
    VersionStatus.REJECTED.value: SubmissionStatus.REJECTED,
    VersionStatus.PENDING_REVIEW.value: SubmissionStatus.PENDING_REVIEW,
    # A version decided while archived is registered by its restore, which is a transition
    # (no model.registered): the status only moves forward, so other restores change nothing.
    VersionStatus.REGISTERED.value: SubmissionStatus.REGISTERED,
}
"""Registry status changes a submitter follows in ingest's status table."""


def _lock_order(item: Received) -> str:
    """The submission whose row an event updates ("" for none)."""
    data = item.event.data
    if isinstance(data, ModelValidated):
        return str(data.submission.submission_id)
    submission_id = getattr(data, "submission_id", None)
    return str(submission_id) if submission_id is not None else ""


def _submissions(ordered: Sequence[Received]) -> list[UUID]:
    """The submissions a sorted batch touches, each once, in lock order."""
    ids: dict[str, UUID] = {}
    for item in ordered:
        key = _lock_order(item)
        if key and key not in ids:
            ids[key] = UUID(key)
    return list(ids.values())


class StatusHandler:
    def __init__(self, repository: SubmissionRepository) -> None:
        self.repository = repository

    async def __call__(self, batch: Sequence[Received]) -> None:
        # Each partition of each topic has a task of its own, and a submission's events are in
        # three topics: without one lock order, two batches touching the same submissions in
        # opposite orders deadlock (hundreds a minute under load, each retried after
        # PostgreSQL's 1 s detection). Sorted by submission (stable, so one submission's
        # events keep their order), every batch takes its row locks in the same order.
        ordered = sorted(batch, key=_lock_order)
        async with self.repository.pool.acquire() as conn, conn.transaction():
            # Every submission's lock at once, in that order (one round trip, not one per
            # statement); `record` and `advance` then run with `locked=True`.
            await self.repository.lock(conn, _submissions(ordered))
            for item in ordered:
                with item.traced():
                    await self._one(item, conn)

    async def _one(self, item: Received, conn: Connection) -> None:
        data = item.event.data
        if item.event.type == SUBMITTED.type:
            assert isinstance(data, ModelSubmitted)
            # Also learns of submissions users published to Kafka themselves.
            await self.repository.record(
                data, SubmissionStatus.VALIDATING, event_id=item.event.id, conn=conn, locked=True
            )
        elif item.event.type == VALIDATED.type:
            assert isinstance(data, ModelValidated)
            await self._validated(data, conn)
        elif item.event.type == REGISTERED.type:
            assert isinstance(data, ModelRegistered)
            await self.repository.advance(
                data.submission_id,
                SubmissionStatus.REGISTERED,
                detail="registered in the catalog"
                + (f", approved by {data.approver}" if data.approver else ""),
                model_id=data.model_id,
                version_id=data.version_id,
                conn=conn,
                locked=True,
            )
        elif item.event.type == TRANSITIONED.type:
            assert isinstance(data, ModelTransitioned)
            outcome = _STATUS_OUTCOMES.get(data.to_value)
            if data.kind == TransitionKind.STATUS and data.submission_id and outcome:
                await self.repository.advance(
                    data.submission_id,
                    outcome,
                    detail=data.reason,
                    model_id=data.model_id,
                    version_id=data.version_id,
                    conn=conn,
                    locked=True,
                )

    async def _validated(self, data: ModelValidated, conn: Connection) -> None:
        checks = [c.model_dump(mode="json") for c in data.checks]
        if data.verdict == Verdict.FAILED:
            failed = [
                f"{c.name}: {c.detail}" for c in data.checks if c.status == CheckStatus.FAILED
            ]
            status, detail = SubmissionStatus.REJECTED, "; ".join(failed)
        else:
            status, detail = (
                SubmissionStatus.VALIDATING,
                "validation passed; waiting for the registry",
            )
        # The verdict may arrive before we saw the submission: it carries it whole.
        await self.repository.record_verdict(
            data.submission,
            status,
            verdict=data.verdict,
            checks=checks,
            detail=detail,
            conn=conn,
            locked=True,
        )
