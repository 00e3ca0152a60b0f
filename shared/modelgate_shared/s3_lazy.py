"""An S3 client opened on first use, for a service that rarely needs one.

The registry calls S3 only to presign a download and to list the files behind an artifact a
Kubeflow client attached; its catalog reads and gate events never do. Opening the client at
start-up cost it 38 MiB of resident memory for that (aioboto3 and botocore imported, 25 MiB;
botocore's S3 service model and endpoint rules loaded, 13 MiB): a quarter of the process.
Here the client (and the bucket check that came with it) waits for the first call that needs
it.

Readiness still says whether S3 answers. Until the client is open the check is a plain HTTP
HEAD of the bucket's URL, unsigned, so it needs no botocore: any answer below 500 (MinIO and
S3 answer 403 to an unsigned request) means the endpoint is up. Once the client is open the
check is the signed HEAD it always was.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

import aiohttp

from modelgate_shared.s3 import prepared, s3_client
from modelgate_shared.settings import ServiceSettings


class S3Unavailable(RuntimeError):
    """The endpoint answered with a server error."""


class LazyS3:
    """`await lazy.client()` is the (traced) client, opened by the first caller."""

    def __init__(self, settings: ServiceSettings, *, retries: int = 3) -> None:
        self._settings = settings
        self._retries = retries
        self._client: Any = None
        self._opening = asyncio.Lock()
        self._stack = AsyncExitStack()

    @property
    def opened(self) -> bool:
        return self._client is not None

    async def client(self) -> Any:
        if self._client is None:
            async with self._opening:
                if self._client is None:
                    self._client = await self._open()
        return self._client

    async def _open(self) -> Any:
        untraced = await self._stack.enter_async_context(
            s3_client(self._settings, retries=self._retries)
        )
        return await prepared(untraced, self._settings.s3_bucket, when="on first use")

    async def check(self) -> None:
        """Readiness (see the module docstring)."""
        bucket = self._settings.s3_bucket
        if self._client is not None:
            await self._client.head_bucket(Bucket=bucket)
            return
        url = f"{self._settings.s3_endpoint_url.rstrip('/')}/{bucket}"
        async with (
            aiohttp.ClientSession() as session,
            session.head(url, allow_redirects=False) as answer,
        ):
            if answer.status >= 500:
                raise S3Unavailable(f"S3 answered HEAD {url} with {answer.status}")

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None
