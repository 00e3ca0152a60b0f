"""S3 (MinIO) clients built from settings, with path-style addressing MinIO expects."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from modelgate_shared.settings import ServiceSettings
from modelgate_shared.telemetry.s3 import trace_s3_client

log = logging.getLogger(__name__)


@asynccontextmanager
async def s3_client(
    settings: ServiceSettings,
    *,
    max_pool: int = 32,
    retries: int = 3,
    timeout_s: float = 60,
    sign_payloads: bool = True,
) -> AsyncIterator[Any]:
    """An S3 client. `sign_payloads=False` stops botocore SHA-256-hashing every body for the
    signature; only for clients whose uploads all carry `x-amz-checksum-sha256` (a signed
    header S3 verifies against the body), which is what botocore itself does over HTTPS."""
    # Imported here, not at the top: aioboto3 and botocore are 25 MiB of a process's memory,
    # which a service that opens its client only on first use (`s3_lazy`) does not need to
    # hold until then.
    import aioboto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    session = aioboto3.Session()
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path", "payload_signing_enabled": sign_payloads},
        max_pool_connections=max_pool,
        retries={"max_attempts": retries, "mode": "standard"},
        connect_timeout=5,
        read_timeout=timeout_s,
        # Checksums are ours to choose per request (SHA-256); don't add CRC32 to every call.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    async with session.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        aws_access_key_id=settings.s3_access_key.get_secret_value(),
        aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
        region_name=settings.s3_region,
        config=config,
    ) as client:
        yield client


async def ensure_bucket(client: Any, bucket: str, *, object_lock: bool = False) -> None:
    """The bucket, created if it is new; with `object_lock`, created with S3 Object Lock (and
    so versioned), which S3 allows only at creation. The validator's pinned copies need it: a
    bucket made without it fails every pin with that reason (fail closed)."""
    try:
        await client.head_bucket(Bucket=bucket)
    except client.exceptions.ClientError:
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            await client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=object_lock)


async def prepared(untraced: Any, bucket: str, *, when: str) -> Any:
    """A service's client, traced, its bucket made if new. A failed bucket check is logged,
    not raised: the service goes on, its readiness says S3 is away, and each call that needs
    S3 fails or retries on its own."""
    client = trace_s3_client(untraced)
    try:
        await ensure_bucket(client, bucket)
    except Exception as exc:
        log.warning("S3 bucket %r not usable %s (%s); continuing", bucket, when, exc)
    return client
