"""The validator's artifact reads against the real MinIO: presigned GETs, whole and ranged."""

from __future__ import annotations

import os
from typing import Any

import pytest

from modelgate_shared.settings import ServiceSettings
from modelgate_validator.artifact_reader import (
    ArtifactReader,
    MissingObject,
    StorageRefused,
)

pytestmark = pytest.mark.integration
MiB = 1024 * 1024


async def _put(s3: Any, settings: ServiceSettings, key: str, data: bytes) -> str:
    await s3.put_object(Bucket=settings.s3_bucket, Key=key, Body=data)
    return f"s3://{settings.s3_bucket}/{key}"


# Keys whose URL must be quoted: the presigned signature covers the quoted form.
@pytest.mark.parametrize("key", ["reader/model.bin", "reader/a dir/ünïcode+plus=1&x.bin"])
async def test_a_whole_object_is_streamed_in_chunks(
    s3: Any, settings: ServiceSettings, reader: ArtifactReader, key: str
) -> None:
    data = os.urandom(3 * MiB + 5)
    uri = await _put(s3, settings, key, data)
    chunks: list[bytes] = []
    lengths: list[int] = []

    async def sink(chunk: bytes) -> None:
        chunks.append(chunk)

    async def on_length(length: int) -> None:
        lengths.append(length)

    assert await reader.consume(uri, sink, on_length=on_length) == len(data)
    assert b"".join(chunks) == data
    assert lengths == [len(data)]
    assert max(len(c) for c in chunks) <= MiB


async def test_a_range_is_exactly_the_bytes_asked_for(
    s3: Any, settings: ServiceSettings, reader: ArtifactReader
) -> None:
    data = os.urandom(4096)
    uri = await _put(s3, settings, "reader/ranged.bin", data)
    assert await reader.read_range(uri, 0, 8) == data[:8]
    assert await reader.read_range(uri, 1000, 24) == data[1000:1024]
    assert await reader.read_range(uri, 5, 0) == b""


async def test_a_missing_object_says_so(reader: ArtifactReader, settings: ServiceSettings) -> None:
    uri = f"s3://{settings.s3_bucket}/reader/never-uploaded.bin"
    with pytest.raises(MissingObject, match=r"never-uploaded\.bin does not exist"):
        await reader.consume(uri, _ignore)
    with pytest.raises(MissingObject):
        await reader.read_range(f"s3://no-such-bucket-{os.getpid()}/x.bin", 0, 8)


async def test_a_uri_without_a_key_names_no_object(
    reader: ArtifactReader, settings: ServiceSettings
) -> None:
    # Found by the consumer fuzzing: a submitted file at `s3://bucket/` made botocore raise
    # ParamValidationError, and the integrity check "crashed" with a traceback.
    uri = f"s3://{settings.s3_bucket}/"
    with pytest.raises(MissingObject, match="names no object"):
        await reader.consume(uri, _ignore)
    with pytest.raises(MissingObject, match="names no object"):
        await reader.read_range(uri, 0, 8)
    with pytest.raises(MissingObject, match="names no object"):
        await reader.head(uri)


async def test_an_error_answer_is_reported_with_its_code_and_not_retried(
    s3: Any, settings: ServiceSettings, reader: ArtifactReader
) -> None:
    uri = await _put(s3, settings, "reader/short.bin", b"12345")
    with pytest.raises(StorageRefused, match=r"HTTP 416 \(InvalidRange\)") as refused:
        await reader.read_range(uri, 100, 8)
    assert not refused.value.transient


async def _ignore(_: bytes) -> None:
    return None
