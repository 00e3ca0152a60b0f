"""Clients of the real MinIO that several integration tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from modelgate_shared.s3 import ensure_bucket, s3_client
from modelgate_shared.settings import ServiceSettings
from modelgate_validator.artifact_reader import ArtifactReader, object_session


@pytest.fixture
async def s3(settings: ServiceSettings) -> AsyncIterator[Any]:
    """An S3 client of the run's namespace, its bucket created."""
    async with s3_client(settings) as client:
        await ensure_bucket(client, settings.s3_bucket)
        yield client


@pytest.fixture
async def reader(s3: Any) -> AsyncIterator[ArtifactReader]:
    """The validator's artifact reader, with quick retries."""
    async with object_session(s3) as http:
        yield ArtifactReader(
            s3, http, attempts=2, backoff_initial_s=0.1, backoff_max_s=1, chunk_bytes=1 << 20
        )
