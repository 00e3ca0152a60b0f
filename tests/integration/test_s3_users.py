"""Each service's own MinIO user, against the real MinIO: it can do its job and nothing more.

The validator pins as itself, but can neither delete a pinned version nor bypass governance;
ingest writes only its staging prefix, never a pinned bucket; the registry reads and presigns,
writes nothing; audit writes only its checkpoints. Root can still clean up.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from modelgate_shared.events import ArtifactFile
from modelgate_shared.s3 import s3_client
from modelgate_shared.s3_policies import S3_SERVICES
from modelgate_shared.settings import ServiceSettings
from modelgate_testkit.namespace import Namespace
from modelgate_validator.artifact_reader import ArtifactReader, object_session
from modelgate_validator.files import SubmissionFiles
from modelgate_validator.pinning import Pinner, PinTarget

pytestmark = pytest.mark.integration

DENIED = r"AccessDenied"

As = Callable[[str], AbstractAsyncContextManager[Any]]


@pytest.fixture
def as_service(namespace: Namespace) -> As:
    """An S3 client as one service's own user (skips where MinIO has no such users)."""
    missing = [s for s in S3_SERVICES if s not in namespace.infra.s3_users]
    if missing:
        pytest.skip(f"no S3 user of its own for {', '.join(missing)} ({namespace.infra.source})")

    def client(service: str) -> AbstractAsyncContextManager[Any]:
        env = {**namespace.env(), **namespace.s3_user_env(service)}
        return s3_client(ServiceSettings.model_validate(env), retries=1)

    return client


async def _staged(s3: Any, bucket: str, data: bytes) -> ArtifactFile:
    key = f"staging/{uuid.uuid4()}/model.safetensors"
    await s3.put_object(Bucket=bucket, Key=key, Body=data)
    return ArtifactFile(path="model.safetensors", uri=f"s3://{bucket}/{key}")


async def _read(s3: Any, bucket: str, key: str, version_id: str) -> bytes:
    answer = await s3.get_object(Bucket=bucket, Key=key, VersionId=version_id)
    async with answer["Body"] as body:
        data: bytes = await body.read()
    return data


@pytest.fixture
async def pinned_copy(s3: Any, as_service: As, settings: ServiceSettings) -> tuple[str, str, bytes]:
    """A staged file pinned by the validator's own user: (key, version id, bytes)."""
    data = os.urandom(64 * 1024)
    item = await _staged(s3, settings.s3_bucket, data)
    async with as_service("validator") as validator, object_session(validator) as http:
        reader = ArtifactReader(
            validator, http, attempts=2, backoff_initial_s=0.1, backoff_max_s=1, chunk_bytes=1 << 20
        )
        files = SubmissionFiles(reader, small_limit=1024)
        await files.fetch(item.uri)
        target = PinTarget(settings.pinned_bucket, uuid.uuid4())
        pinned = await Pinner(reader, retain_days=1).pin(item, files.hashed[item.uri], target)
    assert pinned.version_id
    return target.key("model.safetensors"), pinned.version_id, data


async def test_the_validator_pins_but_cannot_delete_nor_bypass_governance(
    s3: Any, as_service: As, settings: ServiceSettings, pinned_copy: tuple[str, str, bytes]
) -> None:
    key, version, data = pinned_copy
    bucket = settings.pinned_bucket
    async with as_service("validator") as validator:
        assert await _read(validator, bucket, key, version) == data
        # MinIO (our pinned release) lets a user allowed s3:PutObjectRetention shorten a
        # governance retention when it sends the bypass header, s3:BypassGovernanceRetention
        # denied or not (docs/pinned-artifacts.md). Shortened or not, the version stays: the
        # validator may delete no object version.
        with contextlib.suppress(validator.exceptions.ClientError):
            await validator.put_object_retention(
                Bucket=bucket,
                Key=key,
                VersionId=version,
                Retention={
                    "Mode": "GOVERNANCE",
                    "RetainUntilDate": datetime.now(UTC) + timedelta(seconds=2),
                },
                BypassGovernanceRetention=True,
            )
        await asyncio.sleep(3)
        for bypass in (False, True):
            with pytest.raises(validator.exceptions.ClientError, match=DENIED):
                await validator.delete_object(
                    Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=bypass
                )
        # A multi-object delete answers 200 with a refusal per object.
        answer = await validator.delete_objects(
            Bucket=bucket,
            Delete={"Objects": [{"Key": key, "VersionId": version}]},
            BypassGovernanceRetention=True,
        )
        assert not answer.get("Deleted")
        assert [e["Code"] for e in answer.get("Errors", [])] == ["AccessDenied"]
        with pytest.raises(validator.exceptions.ClientError, match=DENIED):
            await validator.put_object_lock_configuration(
                Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
            )
        # It reads submissions; it writes none (the staging prefix is ingest's).
        with pytest.raises(validator.exceptions.ClientError, match=DENIED):
            await validator.put_object(
                Bucket=settings.s3_bucket, Key=f"staging/{uuid.uuid4()}/x", Body=b"x"
            )
        with pytest.raises(validator.exceptions.ClientError, match=DENIED):
            await validator.create_bucket(Bucket=f"{settings.s3_bucket}-rogue")
    assert await _read(s3, bucket, key, version) == data

    # Root still cleans up (what the tests' teardown does), bypassing governance.
    await s3.delete_object(
        Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=True
    )
    with pytest.raises(s3.exceptions.ClientError):
        await s3.head_object(Bucket=bucket, Key=key, VersionId=version)


async def test_ingest_writes_its_staging_prefix_only(
    as_service: As, settings: ServiceSettings, pinned_copy: tuple[str, str, bytes]
) -> None:
    key, version, _ = pinned_copy
    staged = f"staging/{uuid.uuid4()}/model.safetensors"
    async with as_service("ingest") as ingest:
        await ingest.put_object(Bucket=settings.s3_bucket, Key=staged, Body=b"weights")
        await ingest.delete_objects(
            Bucket=settings.s3_bucket, Delete={"Objects": [{"Key": staged}]}
        )
        for bucket, where in (
            (settings.pinned_bucket, key),
            (settings.pinned_bucket, f"{uuid.uuid4()}/model.safetensors"),
            (settings.pinned_bucket, f"staging/{uuid.uuid4()}/x"),
            (settings.s3_bucket, "audit/checkpoints/00000000000000000001"),
            (settings.s3_bucket, "refs/model.safetensors"),
        ):
            with pytest.raises(ingest.exceptions.ClientError, match=DENIED):
                await ingest.put_object(Bucket=bucket, Key=where, Body=b"evil")
        with pytest.raises(ingest.exceptions.ClientError, match=DENIED):
            await ingest.delete_object(
                Bucket=settings.pinned_bucket,
                Key=key,
                VersionId=version,
                BypassGovernanceRetention=True,
            )


async def test_the_registry_reads_and_presigns_but_writes_nothing(
    as_service: As, settings: ServiceSettings, pinned_copy: tuple[str, str, bytes]
) -> None:
    key, version, data = pinned_copy
    async with as_service("registry") as registry:
        url = await registry.generate_presigned_url(
            "get_object",
            Params={"Bucket": settings.pinned_bucket, "Key": key, "VersionId": version},
            ExpiresIn=60,
        )
        async with httpx.AsyncClient() as http:
            assert (await http.get(url)).content == data
        for bucket, where in (
            (settings.pinned_bucket, key),
            (settings.s3_bucket, f"staging/{uuid.uuid4()}/x"),
            (settings.s3_bucket, "audit/checkpoints/00000000000000000001"),
        ):
            with pytest.raises(registry.exceptions.ClientError, match=DENIED):
                await registry.put_object(Bucket=bucket, Key=where, Body=b"evil")
        with pytest.raises(registry.exceptions.ClientError, match=DENIED):
            await registry.delete_object(
                Bucket=settings.pinned_bucket,
                Key=key,
                VersionId=version,
                BypassGovernanceRetention=True,
            )
        with pytest.raises(registry.exceptions.ClientError, match=DENIED):
            await registry.put_object_retention(
                Bucket=settings.pinned_bucket,
                Key=key,
                VersionId=version,
                Retention={
                    "Mode": "GOVERNANCE",
                    "RetainUntilDate": datetime.now(UTC) + timedelta(days=1),
                },
            )


async def test_audit_writes_its_checkpoints_only(as_service: As, settings: ServiceSettings) -> None:
    checkpoint = f"audit/checkpoints/{uuid.uuid4()}"
    async with as_service("audit") as audit:
        await audit.put_object(Bucket=settings.s3_bucket, Key=checkpoint, Body=b"{}")
        answer = await audit.get_object(Bucket=settings.s3_bucket, Key=checkpoint)
        async with answer["Body"] as body:
            assert await body.read() == b"{}"
        for bucket, where in (
            (settings.s3_bucket, f"staging/{uuid.uuid4()}/x"),
            (settings.pinned_bucket, f"audit/checkpoints/{uuid.uuid4()}"),
        ):
            with pytest.raises(audit.exceptions.ClientError, match=DENIED):
                await audit.put_object(Bucket=bucket, Key=where, Body=b"evil")
