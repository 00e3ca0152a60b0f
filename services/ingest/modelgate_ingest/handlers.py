"""What ingest does with the events it consumes: keep each submission's status current."""

from __future__ import annotations

from collections.abc import Sequence

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


class StatusHandler:
    def __init__(self, repository: SubmissionRepository) -> None:
        self.repository = repository

    async def __call__(self, batch: Sequence[Received]) -> None:
        async with self.repository.pool.acquire() as conn, conn.transaction():
            for item in batch:
                with item.traced():
                    await self._one(item, conn)

    async def _one(self, item: Received, conn: Connection) -> None:
        data = item.event.data
        if item.event.type == SUBMITTED.type:
            assert isinstance(data, ModelSubmitted)
            # Also learns of submissions users published to Kafka themselves.
            await self.repository.record(
                data, SubmissionStatus.VALIDATING, event_id=item.event.id, conn=conn
            )
        elif item.event.type == VALIDATED.type:
            assert isinstance(data, ModelValidated)
            await self._validated(data, conn)
        elif item.event.type == REGISTERED.type:
            assert isinstance(data, ModelRegistered)
            await self.repository.advance(
                data.submission_id,
                SubmissionStatus.REGISTERED,
                detail="registered in the catalog",
                model_id=data.model_id,
                version_id=data.version_id,
                conn=conn,
            )
        elif item.event.type == TRANSITIONED.type:
            assert isinstance(data, ModelTransitioned)
            if (
                data.kind == TransitionKind.STATUS
                and data.submission_id
                and data.to_value == VersionStatus.REJECTED
            ):
                await self.repository.advance(
                    data.submission_id,
                    SubmissionStatus.REJECTED,
                    detail=data.reason,
                    model_id=data.model_id,
                    version_id=data.version_id,
                    conn=conn,
                )

    async def _validated(self, data: ModelValidated, conn: Connection) -> None:
        checks = [c.model_dump(mode="json") for c in data.checks]
        # The verdict may arrive before we saw the submission: it carries it whole.
        await self.repository.record(data.submission, SubmissionStatus.VALIDATING, conn=conn)
        if data.verdict == Verdict.FAILED:
            failed = [
                f"{c.name}: {c.detail}" for c in data.checks if c.status == CheckStatus.FAILED
            ]
            await self.repository.advance(
                data.submission.submission_id,
                SubmissionStatus.REJECTED,
                verdict=data.verdict,
                checks=checks,
                detail="; ".join(failed),
                conn=conn,
            )
        else:
            await self.repository.advance(
                data.submission.submission_id,
                SubmissionStatus.VALIDATING,
                verdict=data.verdict,
                checks=checks,
                detail="validation passed; waiting for the registry",
                conn=conn,
            )
