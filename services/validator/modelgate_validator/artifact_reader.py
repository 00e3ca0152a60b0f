"""Reading artifacts from S3: streamed, ranged, or copied to a local file; never whole in memory.

Every read is retried with exponential backoff a bounded number of times when S3 is away
(tenacity); after that `StorageUnavailable` says so, and the check fails with that reason
instead of the consumer hanging or dropping the submission.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from modelgate_shared.transient import is_transient

T = TypeVar("T")


@dataclass(frozen=True)
class ObjectInfo:
    size: int


class MissingObject(Exception):
    pass


class Reader(Protocol):
    """What format inspectors read through: ranges, a size, or a local copy."""

    async def head(self, uri: str) -> ObjectInfo: ...

    async def read_range(self, uri: str, start: int, length: int) -> bytes: ...

    async def download(self, uri: str, dest: Path) -> int: ...


class StorageUnavailable(Exception):
    pass


def split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


class ArtifactReader:
    def __init__(
        self,
        s3: Any,
        *,
        attempts: int,
        backoff_initial_s: float,
        backoff_max_s: float,
        chunk_bytes: int,
    ) -> None:
        self.s3 = s3
        self.attempts = attempts
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.chunk_bytes = chunk_bytes

    async def _retrying(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.backoff_initial_s, max=self.backoff_max_s),
            retry=retry_if_exception(is_transient),
            reraise=False,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await call()
        except RetryError as exc:
            cause = exc.last_attempt.exception()
            raise StorageUnavailable(
                f"S3 unreachable while {what}: gave up after {self.attempts} attempts "
                f"({type(cause).__name__}: {cause})"
            ) from cause
        raise AssertionError("unreachable")  # pragma: no cover

    def _missing(self, exc: Exception) -> bool:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        return code in ("404", "NoSuchKey", "NotFound", "NoSuchBucket")

    async def head(self, uri: str) -> ObjectInfo:
        bucket, key = split_uri(uri)

        async def call() -> ObjectInfo:
            try:
                answer = await self.s3.head_object(Bucket=bucket, Key=key)
            except self.s3.exceptions.ClientError as exc:
                if self._missing(exc):
                    raise MissingObject(f"{uri} does not exist") from exc
                raise
            return ObjectInfo(size=int(answer["ContentLength"]))

        return await self._retrying(f"reading the metadata of {uri}", call)

    async def read_range(self, uri: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        bucket, key = split_uri(uri)

        async def call() -> bytes:
            answer = await self.s3.get_object(
                Bucket=bucket, Key=key, Range=f"bytes={start}-{start + length - 1}"
            )
            body = answer["Body"]
            try:
                data: bytes = await body.read()
            finally:
                body.close()
            return data

        return await self._retrying(f"reading {uri}", call)

    async def consume(
        self,
        uri: str,
        sink: Callable[[bytes], Awaitable[None]],
        *,
        restart: Callable[[], Awaitable[None]] | None = None,
        on_length: Callable[[int], Awaitable[None]] | None = None,
    ) -> int:
        """Stream the object through `sink`, chunk by chunk. A retried read starts again from
        byte 0, so `restart` is awaited before every attempt to reset what the sink built;
        `on_length` hears the object's size before its first chunk (no HEAD needed)."""
        bucket, key = split_uri(uri)

        async def call() -> int:
            if restart is not None:
                await restart()
            try:
                answer = await self.s3.get_object(Bucket=bucket, Key=key)
            except self.s3.exceptions.ClientError as exc:
                if self._missing(exc):
                    raise MissingObject(f"{uri} does not exist") from exc
                raise
            if on_length is not None:
                await on_length(int(answer["ContentLength"]))
            total = 0
            body = answer["Body"]
            try:
                async for chunk in body.iter_chunks(self.chunk_bytes):
                    total += len(chunk)
                    await sink(chunk)
            finally:
                body.close()
            return total

        return await self._retrying(f"reading {uri}", call)

    async def download(self, uri: str, dest: Path) -> int:
        """Copy the object to a local file (for inspectors that need a path)."""
        handle = await asyncio.to_thread(dest.open, "wb")

        async def write(chunk: bytes) -> None:
            await asyncio.to_thread(handle.write, chunk)

        async def truncate() -> None:
            await asyncio.to_thread(handle.seek, 0)
            await asyncio.to_thread(handle.truncate)

        try:
            return await self.consume(uri, write, restart=truncate)
        finally:
            await asyncio.to_thread(handle.close)
