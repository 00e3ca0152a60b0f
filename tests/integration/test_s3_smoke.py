"""The MinIO of the stack is real S3: multipart upload with SHA-256, ranged read, checksums."""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

import pytest

from modelgate_shared.settings import ServiceSettings

pytestmark = pytest.mark.integration

PART = 8 * 1024 * 1024
SIZE = 50 * 1024 * 1024


async def test_multipart_upload_with_sha256_ranged_read_and_head(
    s3: Any, settings: ServiceSettings
) -> None:
    data = os.urandom(SIZE)
    key = "smoke/fifty-megabytes.bin"
    upload = await s3.create_multipart_upload(
        Bucket=settings.s3_bucket, Key=key, ChecksumAlgorithm="SHA256"
    )
    parts, digests = [], []
    for number, offset in enumerate(range(0, SIZE, PART), start=1):
        chunk = data[offset : offset + PART]
        digest = hashlib.sha256(chunk).digest()
        digests.append(digest)
        answer = await s3.upload_part(
            Bucket=settings.s3_bucket,
            Key=key,
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=chunk,
            ChecksumSHA256=base64.b64encode(digest).decode(),
        )
        # The server checked our part digest and echoes it.
        assert answer["ChecksumSHA256"] == base64.b64encode(digest).decode()
        parts.append(
            {
                "PartNumber": number,
                "ETag": answer["ETag"],
                "ChecksumSHA256": answer["ChecksumSHA256"],
            }
        )
    await s3.complete_multipart_upload(
        Bucket=settings.s3_bucket,
        Key=key,
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": parts},
    )

    head = await s3.head_object(Bucket=settings.s3_bucket, Key=key, ChecksumMode="ENABLED")
    assert head["ContentLength"] == SIZE
    # S3's multipart checksum: SHA-256 of the parts' SHA-256s, then "-<number of parts>".
    composite = base64.b64encode(hashlib.sha256(b"".join(digests)).digest()).decode()
    assert head["ChecksumSHA256"].split("-")[0] == composite
    assert len(parts) == 7

    ranged = await s3.get_object(Bucket=settings.s3_bucket, Key=key, Range="bytes=1000-1999")
    assert ranged["ContentRange"] == f"bytes 1000-1999/{SIZE}"
    assert await ranged["Body"].read() == data[1000:2000]

    whole = await s3.get_object(Bucket=settings.s3_bucket, Key=key)
    streamed = hashlib.sha256()
    async for chunk in whole["Body"].iter_chunks(1024 * 1024):
        streamed.update(chunk)
    assert streamed.hexdigest() == hashlib.sha256(data).hexdigest()


async def test_corrupted_part_is_refused_by_the_server(s3: Any, settings: ServiceSettings) -> None:
    key = "smoke/corrupt.bin"
    upload = await s3.create_multipart_upload(
        Bucket=settings.s3_bucket, Key=key, ChecksumAlgorithm="SHA256"
    )
    wrong = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    with pytest.raises(s3.exceptions.ClientError) as refused:
        await s3.upload_part(
            Bucket=settings.s3_bucket,
            Key=key,
            UploadId=upload["UploadId"],
            PartNumber=1,
            Body=b"x" * 1024,
            ChecksumSHA256=wrong,
        )
    await s3.abort_multipart_upload(Bucket=settings.s3_bucket, Key=key, UploadId=upload["UploadId"])
    assert "Checksum" in str(refused.value) or "BadDigest" in str(refused.value)
