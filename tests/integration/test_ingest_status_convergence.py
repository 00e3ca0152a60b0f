"""Ingest's status against the real PostgreSQL: whatever order a submission's events arrive in,
its status ends as the registry's.

A submission published straight to Kafka is known to ingest only from `model.submitted` (or
`model.validated`), and those travel in other topics than the registry's outcome: the outcome
can come first.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import BaseModel

from modelgate_ingest.handlers import StatusHandler
from modelgate_ingest.repository import SubmissionRepository
from modelgate_ingest.status import SubmissionStatus
from modelgate_shared.db.migrations import apply_migrations
from modelgate_shared.db.pool import create_pool
from modelgate_shared.events import (
    REGISTERED,
    SUBMITTED,
    TRANSITIONED,
    VALIDATED,
    CheckResult,
    CheckStatus,
    EventType,
    ModelRegistered,
    ModelSubmitted,
    ModelTransitioned,
    ModelValidated,
    Stage,
    TransitionKind,
    Verdict,
    VersionStatus,
    new_event,
)
from modelgate_shared.kafka.consumer import Received
from modelgate_shared.settings import ServiceSettings
from modelgate_testkit.factories import submitted
from modelgate_testkit.kafka import StubRecord

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).parents[2] / "services" / "ingest" / "modelgate_ingest" / "migrations"


@pytest.fixture
async def repository(settings: ServiceSettings) -> AsyncIterator[SubmissionRepository]:
    url = settings.database_url.get_secret_value()
    await apply_migrations(url, MIGRATIONS)
    pool = await create_pool(url, min_size=2, max_size=4)
    try:
        yield SubmissionRepository(pool)
    finally:
        await pool.close()


def _event(kind: EventType, data: BaseModel, sub: ModelSubmitted) -> Received:
    """`data` as the consumer hands it over: a `kind` event about `sub`, from its topic."""
    return Received(
        new_event(kind, data, source="/tests", subject=sub.name), StubRecord(kind.topic)
    )


def _submitted(sub: ModelSubmitted) -> Received:
    return _event(SUBMITTED, sub, sub)


def _registered(sub: ModelSubmitted, version_id: int = 7) -> Received:
    data = ModelRegistered(
        model_id=3,
        version_id=version_id,
        name=sub.name,
        version=sub.version,
        actor="modelgate-registry",
        sequence=1,
        occurred_at=datetime.now(UTC),
        submission_id=sub.submission_id,
        artifact_uri=sub.artifact.uri,
        stage=Stage.DEVELOPMENT,
    )
    return _event(REGISTERED, data, sub)


def _rejected(sub: ModelSubmitted) -> Received:
    data = ModelTransitioned(
        model_id=3,
        version_id=8,
        name=sub.name,
        version=sub.version,
        actor="ai-admin",
        sequence=2,
        occurred_at=datetime.now(UTC),
        submission_id=sub.submission_id,
        kind=TransitionKind.STATUS,
        from_value=VersionStatus.PENDING,
        to_value=VersionStatus.REJECTED,
        reason="the licence is not ours to give",
    )
    return _event(TRANSITIONED, data, sub)


async def test_a_registration_that_overtakes_its_submission_is_not_lost(
    repository: SubmissionRepository,
) -> None:
    sub = submitted("overtaken", "1.0.0")
    handler = StatusHandler(repository)

    await handler([_registered(sub)])
    assert await repository.get(sub.submission_id) is None  # nothing to show yet
    await handler([_submitted(sub)])

    row = await repository.get(sub.submission_id)
    assert row is not None
    assert row["status"] == SubmissionStatus.REGISTERED
    assert (row["model_id"], row["version_id"]) == (3, 7)
    assert row["detail"] == "registered in the catalog"
    # A redelivered model.submitted afterwards moves nothing back.
    await handler([_submitted(sub)])
    row = await repository.get(sub.submission_id)
    assert row is not None
    assert row["status"] == SubmissionStatus.REGISTERED


async def test_a_rejection_that_overtakes_its_submission_is_not_lost(
    repository: SubmissionRepository,
) -> None:
    sub = submitted("overtaken-rejected", "1.0.0")
    handler = StatusHandler(repository)

    await handler([_rejected(sub)])
    await handler([_submitted(sub)])

    row = await repository.get(sub.submission_id)
    assert row is not None
    assert row["status"] == SubmissionStatus.REJECTED
    assert row["detail"] == "the licence is not ours to give"


async def test_outcome_and_submission_racing_in_two_transactions_converge(
    repository: SubmissionRepository,
) -> None:
    # Two partitions' tasks, each with its batch in a transaction of its own: neither sees the
    # other's uncommitted write, so without a per-submission lock some outcomes are stranded.
    subs = [submitted("racing", f"1.0.{i}") for i in range(40)]
    handler = StatusHandler(repository)

    await asyncio.wait_for(
        asyncio.gather(
            handler([_registered(s, i + 1) for i, s in enumerate(subs)]),
            handler([_submitted(s) for s in subs]),
        ),
        timeout=30,
    )

    rows = await repository.pool.fetch(
        "SELECT status FROM ingest.submissions WHERE submission_id = ANY($1::uuid[])",
        [s.submission_id for s in subs],
    )
    assert sorted(r["status"] for r in rows) == [SubmissionStatus.REGISTERED.value] * len(subs)
    stranded = await repository.pool.fetchval(
        "SELECT count(*) FROM ingest.early_outcomes WHERE submission_id = ANY($1::uuid[])",
        [s.submission_id for s in subs],
    )
    assert stranded == 0


def _waiting_for_review(sub: ModelSubmitted) -> Received:
    data = ModelTransitioned(
        model_id=3,
        version_id=9,
        name=sub.name,
        version=sub.version,
        actor="modelgate-validator",
        sequence=1,
        occurred_at=datetime.now(UTC),
        submission_id=sub.submission_id,
        kind=TransitionKind.STATUS,
        from_value=VersionStatus.VALIDATING,
        to_value=VersionStatus.PENDING_REVIEW,
        reason="validation passed; waiting for review",
    )
    return _event(TRANSITIONED, data, sub)


@pytest.mark.parametrize("order", ["review-then-decision", "decision-then-review"])
async def test_a_review_and_its_decision_that_overtake_the_submission_end_decided(
    repository: SubmissionRepository, order: str
) -> None:
    """Waiting for review is kept for a row not made yet, and replaced by the decision, never
    the reverse, whichever arrives first."""
    sub = submitted(f"overtaken-review-{order}", "1.0.0")
    handler = StatusHandler(repository)
    events = [_waiting_for_review(sub), _registered(sub, 9)]
    for event in events if order == "review-then-decision" else events[::-1]:
        await handler([event])
    await handler([_submitted(sub)])

    row = await repository.get(sub.submission_id)
    assert row is not None
    assert row["status"] == SubmissionStatus.REGISTERED


async def test_a_submission_waiting_for_review_shows_it(repository: SubmissionRepository) -> None:
    sub = submitted("waiting-review", "1.0.0")
    handler = StatusHandler(repository)
    await handler([_submitted(sub)])
    await handler([_waiting_for_review(sub)])
    row = await repository.get(sub.submission_id)
    assert row is not None
    assert row["status"] == SubmissionStatus.PENDING_REVIEW
    assert row["detail"] == "validation passed; waiting for review"


def _verdict(sub: ModelSubmitted, verdict: Verdict) -> Received:
    status = CheckStatus.PASSED if verdict == Verdict.PASSED else CheckStatus.FAILED
    data = ModelValidated(
        submission=sub,
        submitted_event_id=uuid.uuid4(),
        verdict=verdict,
        checks=[CheckResult(name="policy", status=status, detail="licence checked")],
        validated_at=datetime.now(UTC),
    )
    return _event(VALIDATED, data, sub)


@pytest.mark.parametrize("first", ["submitted", "verdict-only"])
async def test_a_verdict_keeps_its_checks_and_the_registrys_outcome_stands(
    repository: SubmissionRepository, first: str
) -> None:
    """The registration overtakes the verdict (and, without `model.submitted`, the row): the
    submission ends registered, with the verdict's checks, the registry's reason and ids."""
    sub = submitted(f"verdict-after-outcome-{first}", "1.0.0")
    handler = StatusHandler(repository)
    if first == "submitted":
        await handler([_submitted(sub)])
    await handler([_registered(sub)])
    await handler([_verdict(sub, Verdict.PASSED)])

    row = await repository.get(sub.submission_id)
    assert row is not None
    assert row["status"] == SubmissionStatus.REGISTERED
    assert row["verdict"] == Verdict.PASSED
    assert [c["name"] for c in row["checks"]] == ["policy"]
    assert row["detail"] == "registered in the catalog"
    assert (row["model_id"], row["version_id"]) == (3, 7)


async def test_a_failed_verdict_after_a_registry_rejection_gives_the_checks_reason(
    repository: SubmissionRepository,
) -> None:
    """Both final: the verdict, read last, says why (the failed checks)."""
    sub = submitted("failed-after-rejection", "1.0.0")
    handler = StatusHandler(repository)
    await handler([_rejected(sub)])
    await handler([_verdict(sub, Verdict.FAILED)])

    row = await repository.get(sub.submission_id)
    assert row is not None
    assert row["status"] == SubmissionStatus.REJECTED
    assert row["verdict"] == Verdict.FAILED
    assert row["detail"] == "policy: licence checked"
    assert not await repository.pool.fetchval(
        "SELECT count(*) FROM ingest.early_outcomes WHERE submission_id = $1", sub.submission_id
    )


async def test_a_failed_verdict_after_a_registration_it_created_the_row_for_leaves_it_registered(
    repository: SubmissionRepository,
) -> None:
    """Registered first (no row yet), then a failed verdict (a validation run again on a
    redelivered submission): the first final outcome stands, the reason is the checks'."""
    sub = submitted("failed-after-registration", "1.0.0")
    handler = StatusHandler(repository)
    await handler([_registered(sub)])
    await handler([_verdict(sub, Verdict.FAILED)])

    row = await repository.get(sub.submission_id)
    assert row is not None
    assert row["status"] == SubmissionStatus.REGISTERED
    assert row["verdict"] == Verdict.FAILED
    assert row["detail"] == "policy: licence checked"
    assert (row["model_id"], row["version_id"]) == (3, 7)
