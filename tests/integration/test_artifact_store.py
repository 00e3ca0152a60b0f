"""Ingest's streaming upload against the real MinIO: multipart, SHA-256, bounded memory."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest

from modelgate_ingest.artifact_store import ArtifactStore
from modelgate_shared.errors import ApiError
from modelgate_shared.settings import ServiceSettings

pytestmark = pytest.mark.integration
MiB = 1024 * 1024


@pytest.mark.parametrize("size", [0, 1000, 5 * MiB, 23 * MiB + 17])
async def test_streamed_upload_stores_the_bytes_and_their_sha256(
    s3: Any, settings: ServiceSettings, size: int
) -> None:
    data = os.urandom(size)
    store = ArtifactStore(s3, settings.s3_bucket, part_size=5 * MiB, max_file_bytes=64 * MiB)
    upload = store.begin(f"store-test/{size}.bin")
    for offset in range(0, size, 64 * 1024):  # as the HTTP body arrives: 64 KiB at a time
        await upload.write(data[offset : offset + 64 * 1024])
    stored = await upload.finish()
    assert stored.size == size
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    body = await s3.get_object(Bucket=settings.s3_bucket, Key=stored.key)
    assert await body["Body"].read() == data


async def test_oversized_file_is_refused_and_its_upload_aborted(
    s3: Any, settings: ServiceSettings
) -> None:
    store = ArtifactStore(s3, settings.s3_bucket, part_size=5 * MiB, max_file_bytes=6 * MiB)
    upload = store.begin("store-test/too-big.bin")
    chunk = os.urandom(MiB)
    for _ in range(6):
        await upload.write(chunk)
    with pytest.raises(ApiError, match="exceeds the 6291456-byte limit") as refused:
        await upload.write(chunk)
    assert refused.value.status == 413
    await upload.abort()
    pending = await s3.list_multipart_uploads(Bucket=settings.s3_bucket, Prefix="store-test/too")
    assert pending.get("Uploads", []) == []
