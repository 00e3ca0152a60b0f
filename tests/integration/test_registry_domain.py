"""The registry's domain driven directly on a real database, no HTTP: the rules a newcomer
looks for by name (a verdict before its submission, a duplicate version, archive before the
verdict, four-eyes in review and promotion, stage moves, rollback, a final rejection)."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from modelgate_registry import errors
from modelgate_registry.handlers import GateHandler
from modelgate_registry.lifecycle import Policy, Registry
from modelgate_registry.outbox import Outbox
from modelgate_registry.records import VersionRecord
from modelgate_registry.review_policy import ReviewPolicy
from modelgate_registry.reviews import Decision
from modelgate_registry.schema import SCHEMA
from modelgate_registry.store import api_keys, artifacts, history, models, versions
from modelgate_shared.auth import Principal, Role
from modelgate_shared.db.migrations import apply_migrations
from modelgate_shared.db.pool import create_pool
from modelgate_shared.events import (
    SUBMITTED,
    VALIDATED,
    ArtifactFile,
    ModelSubmitted,
    ModelValidated,
    PinnedArtifact,
    PinnedFile,
    Stage,
    Verdict,
    VersionStatus,
    new_event,
)
from modelgate_shared.kafka.consumer import Received
from modelgate_testkit.factories import submitted
from modelgate_testkit.kafka import StubRecord
from modelgate_testkit.namespace import Namespace

pytestmark = pytest.mark.integration
PINNED = "modelgate-pinned"
SCIENTIST = "ai-scientist"
ADMIN = Principal("ai-admin", frozenset({Role.ADMIN}))
OTHER_ADMIN = Principal("ai-admin-2", frozenset({Role.ADMIN}))
SCIENTIST_AS_ADMIN = Principal(SCIENTIST, frozenset({Role.ADMIN}))

Make = Callable[[bool], Awaitable[Registry]]


@pytest.fixture
async def make_registry(namespace: Namespace) -> AsyncIterator[Make]:
    """A registry on the run's database: `auto` approves every passed verdict (the run's
    policy), otherwise every version waits for review."""
    await apply_migrations(namespace.database_url, SCHEMA.migrations)
    pool = await create_pool(namespace.database_url, max_size=2)

    async def make(auto: bool) -> Registry:
        review = ReviewPolicy(namespace.review_policy if auto else None)
        return Registry(pool, Outbox(namespace.topics), Policy(pinned_bucket=PINNED, review=review))

    try:
        yield make
    finally:
        await pool.close()


def _submission(name: str, version: str = "1.0.0", submitter: str = SCIENTIST) -> ModelSubmitted:
    sid = uuid.uuid4()
    staged = f"s3://modelgate/staging/{sid}/model.safetensors"
    files = [ArtifactFile(path="model.safetensors", uri=staged, sha256="0" * 64, size=7)]
    return submitted(name, version, submission_id=sid, files=files, submitter=submitter)


def _passed(sub: ModelSubmitted) -> ModelValidated:
    staged = sub.artifact.files[0].uri
    copy = f"s3://{PINNED}/{sub.submission_id}/model.safetensors"
    pinned = PinnedFile(
        path="model.safetensors",
        sha256="0" * 64,
        size=7,
        uri=copy,
        version_id="v1",
        submitted_uri=staged,
    )
    return ModelValidated(
        submission=sub,
        submitted_event_id=uuid.uuid4(),
        verdict=Verdict.PASSED,
        checks=[],
        validated_at=datetime.now(UTC),
        pinned=PinnedArtifact(uri=copy, files=[pinned]),
    )


async def _submit(registry: Registry, sub: ModelSubmitted) -> None:
    async with registry.transaction() as conn:
        await registry.on_submitted(conn, sub)


async def _verdict(registry: Registry, val: ModelValidated) -> VersionStatus | None:
    async with registry.transaction() as conn:
        return await registry.on_validated(conn, val)


async def _version(registry: Registry, sub: ModelSubmitted) -> VersionRecord:
    found = await versions.by_submission(registry.pool, sub.submission_id)
    assert found is not None
    return found


async def _registered(registry: Registry, name: str, version: str = "1.0.0") -> ModelSubmitted:
    sub = _submission(name, version)
    await _submit(registry, sub)
    assert await _verdict(registry, _passed(sub)) == VersionStatus.REGISTERED
    return sub


async def test_a_verdict_before_its_submission_still_decides_once(make_registry: Make) -> None:
    registry = await make_registry(True)
    sub = _submission("domain-verdict-first")
    val = _passed(sub)
    assert await _verdict(registry, val) == VersionStatus.REGISTERED
    await _submit(registry, sub)  # the submission, late: nothing moves back
    assert await _verdict(registry, val) is None  # redelivered: decides nothing
    version = await _version(registry, sub)
    assert version.status == VersionStatus.REGISTERED
    moves = [t.to_value for t in await history.transitions(registry.pool, version.id)]
    assert moves == ["VALIDATING", "REGISTERED"]


async def test_a_duplicate_version_is_refused_and_the_first_stands(make_registry: Make) -> None:
    registry = await make_registry(True)
    first = await _registered(registry, "domain-duplicate")
    second = _submission("domain-duplicate")
    await _submit(registry, second)
    assert await _verdict(registry, _passed(second)) is None
    kept = await versions.by_submission(registry.pool, first.submission_id)
    assert kept is not None
    assert kept.status == VersionStatus.REGISTERED
    assert await versions.by_submission(registry.pool, second.submission_id) is None


async def test_a_submission_recorded_twice_is_one_version_with_one_history_row(
    make_registry: Make,
) -> None:
    registry = await make_registry(True)
    sub = _submission("domain-replayed")
    await _submit(registry, sub)
    await _submit(registry, sub)  # the same event again (a redelivery under another id)
    version = await _version(registry, sub)
    assert version.status == VersionStatus.VALIDATING
    moves = [t.to_value for t in await history.transitions(registry.pool, version.id)]
    assert moves == ["VALIDATING"]


async def test_a_submission_id_reused_for_another_model_makes_nothing(
    make_registry: Make,
) -> None:
    registry = await make_registry(True)
    first = await _registered(registry, "domain-id-owner")
    reused = _submission("domain-id-thief").model_copy(
        update={"submission_id": first.submission_id}
    )
    await _submit(registry, reused)
    assert await models.by_name(registry.pool, "domain-id-thief") is None
    kept = await _version(registry, first)
    assert kept.status == VersionStatus.REGISTERED


@pytest.mark.parametrize(("auto", "after"), [(True, "REGISTERED"), (False, "PENDING_REVIEW")])
async def test_archived_before_its_verdict_keeps_the_verdict_for_a_restore(
    make_registry: Make, auto: bool, after: str
) -> None:
    registry = await make_registry(auto)
    name = f"domain-archived-early-{'auto' if auto else 'manual'}"
    sub = _submission(name)
    await _submit(registry, sub)
    await registry.archive_version(ADMIN, name, "1.0.0", "not needed yet")
    assert await _verdict(registry, _passed(sub)) is None  # no catalog event while archived
    archived = await _version(registry, sub)
    assert archived.status == VersionStatus.ARCHIVED
    assert archived.status_before_archive == after
    restored = await registry.restore_version(ADMIN, name, "1.0.0", "needed after all")
    assert restored.status == after


async def test_review_four_eyes_and_a_final_rejection(make_registry: Make) -> None:
    registry = await make_registry(False)
    sub = _submission("domain-review")
    await _submit(registry, sub)
    assert await _verdict(registry, _passed(sub)) == VersionStatus.PENDING_REVIEW
    with pytest.raises(errors.Forbidden, match="four-eyes"):
        await registry.review(SCIENTIST_AS_ADMIN, sub.name, "1.0.0", Decision.APPROVE, "mine")
    approved = await registry.review(ADMIN, sub.name, "1.0.0", Decision.APPROVE, "card ok")
    assert approved.status == VersionStatus.REGISTERED
    assert approved.review is not None
    assert approved.review["by"] == "ai-admin"
    with pytest.raises(errors.Conflict, match="already approved"):
        await registry.review(OTHER_ADMIN, sub.name, "1.0.0", Decision.REJECT, "late")

    refused = _submission("domain-review", "2.0.0")
    await _submit(registry, refused)
    assert await _verdict(registry, _passed(refused)) == VersionStatus.PENDING_REVIEW
    rejected = await registry.review(ADMIN, refused.name, "2.0.0", Decision.REJECT, "no licence")
    assert rejected.status == VersionStatus.REJECTED
    again = _submission("domain-review", "2.0.0")
    await _submit(registry, again)  # a rejection in review is final for the number
    assert (await _version(registry, refused)).status == VersionStatus.REJECTED
    assert await versions.by_submission(registry.pool, again.submission_id) is None


async def test_an_admin_who_issued_the_submitters_api_key_is_a_supplier_too(
    make_registry: Make,
) -> None:
    """Four-eyes counts a key's issuer with its owner: an admin who mints a key, submits
    through it and then approves would otherwise be two people on paper and one in fact."""
    registry = await make_registry(False)
    bot = f"ci-bot-{uuid.uuid4().hex[:8]}"
    await api_keys.insert(
        registry.pool,
        key_id=uuid.uuid4(),
        name="nightly",
        owner=bot,
        roles=["data-scientist"],
        sha256=secrets.token_hex(32),
        created_by=ADMIN.subject,
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    sub = _submission("domain-key", submitter=bot)
    await _submit(registry, sub)
    assert await _verdict(registry, _passed(sub)) == VersionStatus.PENDING_REVIEW
    with pytest.raises(errors.Forbidden, match="issued the API key that submitted"):
        await registry.review(ADMIN, sub.name, "1.0.0", Decision.APPROVE, "via my key")
    await registry.review(OTHER_ADMIN, sub.name, "1.0.0", Decision.APPROVE, "card ok")
    await registry.transition(ADMIN, sub.name, "1.0.0", Stage.STAGING, "QA")
    with pytest.raises(errors.Forbidden, match="issued the API key that submitted"):
        await registry.transition(ADMIN, sub.name, "1.0.0", Stage.PRODUCTION, "via my key")
    await registry.transition(OTHER_ADMIN, sub.name, "1.0.0", Stage.PRODUCTION, "release")


async def test_stage_moves_promotion_four_eyes_and_rollback(make_registry: Make) -> None:
    registry = await make_registry(True)
    name = "domain-stages"
    await _registered(registry, name, "1.0.0")
    await _registered(registry, name, "1.1.0")
    with pytest.raises(errors.Conflict):
        await registry.transition(ADMIN, name, "1.0.0", Stage.DEPRECATED, "skip")
    await registry.transition(ADMIN, name, "1.0.0", Stage.STAGING, "QA")
    with pytest.raises(errors.Forbidden, match="four-eyes"):
        await registry.transition(SCIENTIST_AS_ADMIN, name, "1.0.0", Stage.PRODUCTION, "mine")
    await registry.transition(ADMIN, name, "1.0.0", Stage.PRODUCTION, "first release")
    await registry.transition(ADMIN, name, "1.1.0", Stage.STAGING, "QA")
    await registry.transition(ADMIN, name, "1.1.0", Stage.PRODUCTION, "better")

    def stage_of(version: str) -> Callable[[], Awaitable[str | None]]:
        async def read() -> str | None:
            model = await registry.pool.fetchval(
                "SELECT id FROM registry.models WHERE name = $1", name
            )
            found = await versions.by_name(registry.pool, model, version)
            assert found is not None
            return found.stage

        return read

    assert await stage_of("1.0.0")() == Stage.DEPRECATED
    # Rollback: the version production had before is promoted again.
    await registry.transition(ADMIN, name, "1.0.0", Stage.PRODUCTION, "rollback: 1.1.0 regresses")
    assert await stage_of("1.0.0")() == Stage.PRODUCTION
    assert await stage_of("1.1.0")() == Stage.DEPRECATED
    model_id = await registry.pool.fetchval("SELECT id FROM registry.models WHERE name = $1", name)
    aliases = {a.alias: a.version_id for a in await history.aliases(registry.pool, model_id)}
    first = await versions.by_name(registry.pool, model_id, "1.0.0")
    assert first is not None
    assert aliases["production"] == first.id


def _received(sub: ModelSubmitted | ModelValidated) -> Received:
    kind = SUBMITTED if isinstance(sub, ModelSubmitted) else VALIDATED
    name = sub.name if isinstance(sub, ModelSubmitted) else sub.submission.name
    return Received(new_event(kind, sub, source="/tests", subject=name), StubRecord(kind.topic))


async def _sequences(registry: Registry, name: str) -> list[int]:
    """The sequence numbers of the model's events in the outbox, in the order written."""
    rows = await registry.pool.fetch(
        "SELECT payload FROM registry.outbox WHERE key = $1 ORDER BY id", name.encode()
    )
    return [json.loads(r["payload"])["data"]["sequence"] for r in rows]


async def test_a_batch_numbers_events_and_pins_artifacts_as_changes_one_by_one_would(
    make_registry: Make,
) -> None:
    """A consumer's batch writes its sequence numbers and artifact pins at its end
    (store/deferred.py): the same numbers, in the same order, as one change at a time."""
    registry = await make_registry(True)
    handler = GateHandler(registry)
    name = "domain-batch"
    subs = [_submission(name, f"1.0.{n}") for n in range(3)]
    await handler([_received(s) for s in subs])
    one_by_one = _submission(name, "2.0.0")  # outside any batch: written at once
    await _submit(registry, one_by_one)
    await handler([_received(_passed(s)) for s in subs])
    assert await _verdict(registry, _passed(one_by_one)) == VersionStatus.REGISTERED

    sequences = await _sequences(registry, name)
    assert len(sequences) == 4  # one model.registered per version
    assert sequences == [1, 2, 3, 4]
    model = await models.by_name(registry.pool, name)
    assert model is not None
    assert model.sequence == 4
    for sub in [*subs, one_by_one]:
        version = await _version(registry, sub)
        assert version.status == VersionStatus.REGISTERED
        artifact = await artifacts.of_version(
            registry.pool, version.id, "model-artifact", f"{name}-{sub.version}"
        )
        assert artifact is not None
        assert artifact.uri == f"s3://{PINNED}/{sub.submission_id}/model.safetensors"

    await registry.archive_version(ADMIN, name, "1.0.0", "superseded")
    assert (await _sequences(registry, name))[-1] == 5
