"""The validator's pinned copies against the real MinIO: the hashed version copied, locked and
confirmed; a source rewritten meanwhile, a bucket without Object Lock, refused."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from modelgate_shared.events import ArtifactFile
from modelgate_shared.s3 import ensure_bucket
from modelgate_shared.settings import ServiceSettings
from modelgate_validator import pinning
from modelgate_validator.artifact_reader import ArtifactReader, StorageRefused
from modelgate_validator.files import SubmissionFiles
from modelgate_validator.pinning import Pinner, PinRefused, PinTarget

pytestmark = pytest.mark.integration


@pytest.fixture
async def pinned_bucket(s3: Any, settings: ServiceSettings) -> str:
    await ensure_bucket(s3, settings.pinned_bucket, object_lock=True)
    return settings.pinned_bucket


async def _staged(s3: Any, bucket: str, data: bytes) -> ArtifactFile:
    key = f"staging/{uuid.uuid4()}/model.safetensors"
    await s3.put_object(Bucket=bucket, Key=key, Body=data)
    return ArtifactFile(path="model.safetensors", uri=f"s3://{bucket}/{key}")


async def _read(s3: Any, bucket: str, key: str, version_id: str | None = None) -> bytes:
    extra = {"VersionId": version_id} if version_id else {}
    answer = await s3.get_object(Bucket=bucket, Key=key, **extra)
    async with answer["Body"] as body:
        data: bytes = await body.read()
    return data


async def test_the_hashed_bytes_are_copied_locked_and_confirmed(
    s3: Any, settings: ServiceSettings, reader: ArtifactReader, pinned_bucket: str
) -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)
    item = await _staged(s3, settings.s3_bucket, data)
    files = SubmissionFiles(reader, small_limit=1024)
    digest, _ = await files.fetch(item.uri)
    target = PinTarget(pinned_bucket, uuid.uuid4())

    pinned = await Pinner(reader, retain_days=1).pin(item, files.hashed[item.uri], target)

    key = target.key("model.safetensors")
    assert pinned.uri == f"s3://{pinned_bucket}/{key}"
    assert pinned.sha256 == digest == hashlib.sha256(data).hexdigest()
    assert pinned.size == len(data)
    assert pinned.version_id
    assert pinned.submitted_uri == item.uri
    assert await _read(s3, pinned_bucket, key, pinned.version_id) == data
    retention = await s3.get_object_retention(
        Bucket=pinned_bucket, Key=key, VersionId=pinned.version_id
    )
    assert retention["Retention"]["Mode"] == "GOVERNANCE"

    # A writer of the pinned bucket (root here; of the services, only the validator's user)
    # may add a new version of the key; the pinned one stays
    # as it was, and cannot be deleted without bypassing governance.
    await s3.put_object(Bucket=pinned_bucket, Key=key, Body=b"evil")
    assert await _read(s3, pinned_bucket, key, pinned.version_id) == data
    with pytest.raises(s3.exceptions.ClientError, match=r"AccessDenied|ObjectLocked|WORM"):
        await s3.delete_object(Bucket=pinned_bucket, Key=key, VersionId=pinned.version_id)
    assert await _read(s3, pinned_bucket, key, pinned.version_id) == data


async def test_a_file_over_the_copy_limit_is_copied_in_parts_and_read_back(
    s3: Any,
    settings: ServiceSettings,
    reader: ArtifactReader,
    pinned_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 5 GiB files in a test are out of the question: the limits shrink instead (S3's smallest
    # part is 5 MiB), so the same UploadPartCopy path runs on 11 MiB.
    monkeypatch.setattr(pinning, "COPY_LIMIT", 1024)
    monkeypatch.setattr(pinning, "PART_BYTES", 5 * 1024 * 1024)
    data = os.urandom(11 * 1024 * 1024)
    item = await _staged(s3, settings.s3_bucket, data)
    files = SubmissionFiles(reader, small_limit=1024)
    await files.fetch(item.uri)
    target = PinTarget(pinned_bucket, uuid.uuid4())

    pinned = await Pinner(reader, retain_days=1).pin(item, files.hashed[item.uri], target)

    assert pinned.sha256 == hashlib.sha256(data).hexdigest()
    assert pinned.version_id
    key = target.key("model.safetensors")
    assert await _read(s3, pinned_bucket, key, pinned.version_id) == data
    retention = await s3.get_object_retention(
        Bucket=pinned_bucket, Key=key, VersionId=pinned.version_id
    )
    assert retention["Retention"]["Mode"] == "GOVERNANCE"


async def test_a_copy_whose_sha256_is_not_the_one_hashed_is_refused(
    s3: Any, settings: ServiceSettings, reader: ArtifactReader, pinned_bucket: str
) -> None:
    item = await _staged(s3, settings.s3_bucket, os.urandom(4096))
    files = SubmissionFiles(reader, small_limit=1024)
    await files.fetch(item.uri)
    wrong = dataclasses.replace(files.hashed[item.uri], sha256="0" * 64)

    with pytest.raises(PinRefused, match="has SHA-256"):
        await Pinner(reader, retain_days=1).pin(item, wrong, PinTarget(pinned_bucket, uuid.uuid4()))


async def test_a_source_rewritten_after_it_was_hashed_is_not_pinned(
    s3: Any, settings: ServiceSettings, reader: ArtifactReader, pinned_bucket: str
) -> None:
    bucket = settings.s3_bucket
    item = await _staged(s3, bucket, os.urandom(4096))
    files = SubmissionFiles(reader, small_limit=1024)
    await files.fetch(item.uri)
    _, key = item.uri.removeprefix("s3://").split("/", 1)
    await s3.put_object(Bucket=bucket, Key=key, Body=b"swapped after validation")

    with pytest.raises(PinRefused, match="changed while it was being validated"):
        await Pinner(reader, retain_days=1).pin(
            item, files.hashed[item.uri], PinTarget(pinned_bucket, uuid.uuid4())
        )


@pytest.fixture
async def versioned_bucket(s3: Any, settings: ServiceSettings) -> AsyncIterator[str]:
    """A versioned staging bucket: a rewrite leaves the hashed version in place."""
    bucket = f"{settings.s3_bucket}-versioned"
    await ensure_bucket(s3, bucket)
    await s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    try:
        yield bucket
    finally:
        async for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for o in page.get("Versions", []):
                await s3.delete_object(Bucket=bucket, Key=o["Key"], VersionId=o["VersionId"])
        await s3.delete_bucket(Bucket=bucket)


@pytest.mark.parametrize("rewritten", [False, True])
async def test_a_versioned_source_is_pinned_only_while_the_hashed_version_is_current(
    s3: Any,
    reader: ArtifactReader,
    pinned_bucket: str,
    versioned_bucket: str,
    rewritten: bool,
) -> None:
    # The copy names the hashed version, so its If-Match alone would still copy it after a
    # rewrite: the HEAD before the copy is what refuses it.
    data = os.urandom(4096)
    item = await _staged(s3, versioned_bucket, data)
    files = SubmissionFiles(reader, small_limit=1024)
    await files.fetch(item.uri)
    hashed = files.hashed[item.uri]
    assert hashed.version_id is not None
    target = PinTarget(pinned_bucket, uuid.uuid4())
    if rewritten:
        _, key = item.uri.removeprefix("s3://").split("/", 1)
        await s3.put_object(Bucket=versioned_bucket, Key=key, Body=b"swapped after validation")
        with pytest.raises(PinRefused, match="changed while it was being validated"):
            await Pinner(reader, retain_days=1).pin(item, hashed, target)
    else:
        pinned = await Pinner(reader, retain_days=1).pin(item, hashed, target)
        assert await _read(s3, pinned_bucket, target.key(item.path), pinned.version_id) == data


async def test_a_file_rewritten_after_hashing_is_not_inspected_in_its_place(
    s3: Any, settings: ServiceSettings, reader: ArtifactReader
) -> None:
    # Larger than what is kept in memory: format checks read it again, in ranges.
    item = await _staged(s3, settings.s3_bucket, os.urandom(64 * 1024))
    files = SubmissionFiles(reader, small_limit=1024)
    await files.fetch(item.uri)
    _, key = item.uri.removeprefix("s3://").split("/", 1)
    await s3.put_object(Bucket=settings.s3_bucket, Key=key, Body=os.urandom(64 * 1024))

    with pytest.raises(StorageRefused, match="412"):
        await files.read_range(item.uri, 0, 8)


async def test_a_bucket_without_object_lock_refuses_to_hold_pinned_copies(
    s3: Any, settings: ServiceSettings, reader: ArtifactReader
) -> None:
    plain = f"{settings.s3_bucket}-plain"
    await s3.create_bucket(Bucket=plain)
    try:
        item = await _staged(s3, settings.s3_bucket, os.urandom(1024))
        files = SubmissionFiles(reader, small_limit=1024)
        await files.fetch(item.uri)
        with pytest.raises(PinRefused):
            await Pinner(reader, retain_days=1).pin(
                item, files.hashed[item.uri], PinTarget(plain, uuid.uuid4())
            )
    finally:
        async for page in s3.get_paginator("list_object_versions").paginate(Bucket=plain):
            for o in page.get("Versions", []):
                await s3.delete_object(Bucket=plain, Key=o["Key"], VersionId=o["VersionId"])
        await s3.delete_bucket(Bucket=plain)
