"""Ingest's status consumer against the real PostgreSQL: concurrent batches never deadlock.

A submission's events arrive in three topics, and each partition of each topic is handled by
a task of its own, so two batches can touch the same submissions at once, in any order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from modelgate_ingest.handlers import StatusHandler
from modelgate_ingest.repository import SubmissionRepository
from modelgate_ingest.status import SubmissionStatus
from modelgate_shared.db.migrations import apply_migrations
from modelgate_shared.db.pool import create_pool
from modelgate_shared.events import REGISTERED, SUBMITTED, ModelRegistered, Stage, new_event
from modelgate_shared.kafka.consumer import Received
from modelgate_shared.settings import ServiceSettings
from modelgate_testkit.factories import submitted
from modelgate_testkit.kafka import StubRecord

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).parents[2] / "services" / "ingest" / "modelgate_ingest" / "migrations"
SUBMISSIONS = 60


@pytest.fixture
async def repository(settings: ServiceSettings) -> AsyncIterator[SubmissionRepository]:
    url = settings.database_url.get_secret_value()
    await apply_migrations(url, MIGRATIONS)
    pool = await create_pool(url, min_size=2, max_size=4)
    try:
        yield SubmissionRepository(pool)
    finally:
        await pool.close()


async def test_batches_touching_the_same_submissions_in_opposite_orders_both_commit(
    repository: SubmissionRepository,
) -> None:
    subs = [submitted("lock-order", f"1.0.{i}") for i in range(SUBMISSIONS)]
    for sub in subs:
        await repository.record(sub, SubmissionStatus.VALIDATING)
    # One partition of model.submitted redelivers the submissions in one order while one
    # partition of model.registered announces their registrations in the other.
    resubmitted = [
        Received(
            new_event(SUBMITTED, sub, source="/tests", subject=sub.name),
            StubRecord("model.submitted"),
        )
        for sub in subs
    ]
    registered = [
        Received(
            new_event(
                REGISTERED,
                ModelRegistered(
                    model_id=1,
                    version_id=i + 1,
                    name=sub.name,
                    version=sub.version,
                    actor="modelgate-registry",
                    sequence=i + 1,
                    occurred_at=datetime.now(UTC),
                    submission_id=sub.submission_id,
                    artifact_uri=sub.artifact.uri,
                    stage=Stage.DEVELOPMENT,
                ),
                source="/tests",
                subject=sub.name,
            ),
            StubRecord("model.registered"),
        )
        for i, sub in enumerate(subs)
    ]
    handler = StatusHandler(repository)

    # Unordered, the two transactions lock rows from opposite ends and PostgreSQL aborts one
    # of them with DeadlockDetectedError; gather would raise it here.
    await asyncio.wait_for(
        asyncio.gather(handler(resubmitted), handler(list(reversed(registered)))), timeout=30
    )

    rows = await repository.pool.fetch(
        "SELECT status FROM ingest.submissions WHERE submission_id = ANY($1::uuid[])",
        [s.submission_id for s in subs],
    )
    assert sorted(r["status"] for r in rows) == [SubmissionStatus.REGISTERED.value] * SUBMISSIONS
