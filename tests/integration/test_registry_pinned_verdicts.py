"""The registry's verdict handler on the real database: a `passed` verdict registers only bytes
the validator hashed and pinned."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from modelgate_registry.lifecycle import Policy, Registry
from modelgate_registry.outbox import Outbox
from modelgate_registry.records import VersionRecord
from modelgate_registry.review_policy import ReviewPolicy
from modelgate_registry.schema import SCHEMA
from modelgate_registry.store import versions
from modelgate_shared.db.migrations import apply_migrations
from modelgate_shared.db.pool import create_pool
from modelgate_shared.events import (
    ArtifactFile,
    ModelValidated,
    PinnedArtifact,
    PinnedFile,
    PinnedSignature,
    Verdict,
    VersionStatus,
)
from modelgate_testkit.factories import submitted
from modelgate_testkit.namespace import Namespace

pytestmark = pytest.mark.integration
DIGEST = hashlib.sha256(b"weights").hexdigest()


@pytest.fixture
async def registry(namespace: Namespace) -> AsyncIterator[Registry]:
    await apply_migrations(namespace.database_url, SCHEMA.migrations)
    pool = await create_pool(namespace.database_url, max_size=2)
    try:
        # Registered on a passed verdict: the namespace's review policy approves everything.
        policy = Policy(
            pinned_bucket="modelgate-pinned", review=ReviewPolicy(namespace.review_policy)
        )
        yield Registry(pool, Outbox(namespace.topics), policy)
    finally:
        await pool.close()


def _verdict(name: str, pinned: bool, bucket: str = "modelgate-pinned") -> ModelValidated:
    staged = f"s3://modelgate/staging/{uuid.uuid4()}/model.safetensors"
    sub = submitted(name, files=[ArtifactFile(path="model.safetensors", uri=staged)])
    copy = f"s3://{bucket}/{sub.submission_id}/model.safetensors"
    return ModelValidated(
        submission=sub,
        submitted_event_id=uuid.uuid4(),
        verdict=Verdict.PASSED,
        checks=[],
        validated_at=datetime.now(UTC),
        pinned=PinnedArtifact(
            uri=copy,
            files=[
                PinnedFile(
                    path="model.safetensors",
                    sha256=DIGEST,
                    size=7,
                    uri=copy,
                    version_id="v1",
                    submitted_uri=staged,
                )
            ],
        )
        if pinned
        else None,
    )


async def _decide(registry: Registry, val: ModelValidated) -> VersionRecord:
    async with registry.transaction() as conn:
        await registry.on_validated(conn, val)
    row = await versions.by_submission(registry.pool, val.submission.submission_id)
    assert row is not None
    return row


async def test_a_passed_verdict_without_digests_is_rejected_with_the_reason(
    registry: Registry,
) -> None:
    version = await _decide(registry, _verdict("crafted-unhashed", pinned=False))

    assert version.status == VersionStatus.REJECTED
    assert version.status_reason.startswith("bytes never hashed cannot be registered")
    async with registry.pool.acquire() as conn:
        artifacts = await conn.fetchval(
            "SELECT count(*) FROM registry.artifacts WHERE version_id = $1", version.id
        )
    assert artifacts == 0


async def test_a_passed_verdict_whose_copies_are_outside_the_pinned_bucket_is_rejected(
    registry: Registry,
) -> None:
    version = await _decide(registry, _verdict("crafted-elsewhere", True, "attacker-bucket"))

    assert version.status == VersionStatus.REJECTED
    assert "not in the pinned bucket 'modelgate-pinned'" in version.status_reason


async def test_a_passed_verdict_with_pinned_files_registers_them_not_the_submitted_ones(
    registry: Registry,
) -> None:
    val = _verdict("crafted-pinned", pinned=True)
    version = await _decide(registry, val)

    assert version.status == VersionStatus.REGISTERED
    assert val.pinned is not None
    assert version.artifact is not None
    assert version.artifact["uri"] == val.pinned.uri
    (stored,) = version.artifact["files"]
    assert (stored["sha256"], stored["version_id"]) == (DIGEST, "v1")
    assert stored["uri"] == val.pinned.uri
    async with registry.pool.acquire() as conn:
        uri = await conn.fetchval(
            "SELECT uri FROM registry.artifacts WHERE version_id = $1", version.id
        )
    assert uri == val.pinned.uri


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("model.safetensors", "inside"),  # would be written over a weights file on download
        ("modelgate.sig", "elsewhere"),  # outside this version's pinned folder
    ],
)
async def test_a_gate_signature_not_beside_its_copies_is_refused(
    registry: Registry, path: str, where: str
) -> None:
    val = _verdict(f"crafted-signature-{where}", pinned=True)
    assert val.pinned is not None
    folder = val.pinned.uri.rsplit("/", 1)[0]
    uri = f"{folder}/{path}" if where == "inside" else f"s3://modelgate-pinned/other/{path}"
    signature = PinnedSignature(
        path=path, uri=uri, version_id="v1", sha256=DIGEST, size=9, key_fingerprint="sha256:x"
    )
    crafted = val.model_copy(
        update={"pinned": val.pinned.model_copy(update={"signature": signature})}
    )
    version = await _decide(registry, crafted)

    assert version.status == VersionStatus.REJECTED
    assert "the gate's signature" in version.status_reason
