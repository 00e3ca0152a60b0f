"""Reading artifacts from S3: streamed, ranged, or copied to a local file; never whole in memory.

Every read is retried with exponential backoff a bounded number of times when S3 is away
(tenacity); after that `StorageUnavailable` says so, and the check fails with that reason
instead of the consumer hanging or dropping the submission.

Objects are read (and their metadata asked for) with requests we sign (`sigv4`) and send on
kept-alive HTTP/1.1 connections (`s3_requests`, `http1`). Each submission's artifacts are read
once, and aiobotocore's request path (event hooks, endpoint rules, signing, response
parsing) made the validator the busiest service of the gate: 0.86-0.88 ms of CPU per small GET
against 0.37-0.39 ms with a presigned URL, and less again signed directly.

S3's own errors worth waiting out (5xx, 429) are retried like a connection that dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from botocore.exceptions import ClientError
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from modelgate_shared.transient import is_transient
from modelgate_validator.http1 import Answer, Connections
from modelgate_validator.s3_requests import SignedS3, error_code

T = TypeVar("T")


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    etag: str | None = None
    """The object's ETag as S3 sent it (quoted): a copy made `If-Match` it copies these bytes."""
    version_id: str | None = None
    """The object's S3 VersionId, in a versioned bucket."""


class MissingObject(Exception):
    pass


class Reader(Protocol):
    """What format inspectors read through: ranges, a size, or a local copy."""

    async def head(self, uri: str) -> ObjectInfo: ...

    async def read_range(self, uri: str, start: int, length: int) -> bytes: ...

    async def download(self, uri: str, dest: Path) -> int: ...


class StorageUnavailable(Exception):
    pass


class StorageRefused(Exception):
    """S3 answered a GET with an error status; worth retrying when it is the server's."""

    def __init__(self, uri: str, status: int, code: str) -> None:
        super().__init__(f"S3 answered HTTP {status} ({code or 'no error code'}) for {uri}")
        self.status = status

    @property
    def transient(self) -> bool:
        return _server_side(self.status)


def _server_side(status: int) -> bool:
    """An S3 answer worth waiting out: the server's error, or too many requests."""
    return status >= 500 or status == 429


def _worth_retrying(exc: BaseException) -> bool:
    if isinstance(exc, ClientError):  # S3's own answer on a signed request (`s3_requests`)
        status = _status(exc)
        return status is not None and _server_side(status)
    return is_transient(exc) or (isinstance(exc, StorageRefused) and exc.transient)


def _status(exc: Exception) -> int | None:
    """The HTTP status of a client error's answer, if it has one."""
    status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status if isinstance(status, int) else None


def _refusal(uri: str, exc: Exception) -> StorageRefused | None:
    """A client error's answer as a `StorageRefused` (HEAD answers carry no error body, so
    the code is often just the status)."""
    status = _status(exc)
    if status is None:
        return None
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    return StorageRefused(uri, status, str(code))


def object_session(
    s3: Any, *, connect_timeout_s: float = 5, read_timeout_s: float = 60
) -> Connections:
    """The connections the validator's signed S3 requests go through: to the S3 client's
    endpoint, with its timeouts. Object bytes are read as they are (no gzip decoding)."""
    return Connections(
        s3.meta.endpoint_url, connect_timeout_s=connect_timeout_s, read_timeout_s=read_timeout_s
    )


def split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def object_of(uri: str) -> tuple[str, str]:
    """The bucket and key of an object's URI; MissingObject for one that names no object
    (`s3://bucket/`: S3 has no object with an empty key, and botocore refuses to ask)."""
    bucket, key = split_uri(uri)
    if not key:
        raise MissingObject(f"{uri} names no object (no key after the bucket)")
    return bucket, key


class ArtifactReader:
    def __init__(
        self,
        s3: Any,
        http: Connections,
        *,
        attempts: int,
        backoff_initial_s: float,
        backoff_max_s: float,
        chunk_bytes: int,
    ) -> None:
        self.s3 = s3
        self.http = http
        self.signed = SignedS3.of_client(s3, http)
        self.attempts = attempts
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.chunk_bytes = chunk_bytes

    async def _retrying(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        # The first attempt bare: a tenacity loop built for every S3 call was 4% of the
        # validator's CPU at the gate's maximum rate, for calls that nearly always succeed.
        try:
            return await call()
        except Exception as exc:
            if not _worth_retrying(exc):
                raise
            first = exc
        if self.attempts <= 1:
            raise self._gave_up(what, first) from first
        # The schedule tenacity would have kept from the first attempt on: wait m, then 2m, ...
        await asyncio.sleep(min(self.backoff_initial_s, self.backoff_max_s))
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts - 1),
            wait=wait_exponential(multiplier=2 * self.backoff_initial_s, max=self.backoff_max_s),
            retry=retry_if_exception(_worth_retrying),
            reraise=False,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await call()
        except RetryError as exc:
            cause = exc.last_attempt.exception()
            raise self._gave_up(what, cause) from cause
        raise AssertionError("unreachable")  # pragma: no cover

    def _gave_up(self, what: str, cause: BaseException | None) -> StorageUnavailable:
        return StorageUnavailable(
            f"S3 unreachable while {what}: gave up after {self.attempts} attempts "
            f"({type(cause).__name__}: {cause})"
        )

    async def retrying(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """`call`, retried with backoff while S3 is away; `StorageUnavailable` after the last."""
        return await self._retrying(what, call)

    def _missing(self, exc: Exception) -> bool:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        return code in ("404", "NoSuchKey", "NotFound", "NoSuchBucket")

    async def head(self, uri: str) -> ObjectInfo:
        bucket, key = object_of(uri)

        async def call() -> ObjectInfo:
            try:
                answer = await self.signed.head_object(bucket, key)
            except ClientError as exc:
                if self._missing(exc):
                    raise MissingObject(f"{uri} does not exist") from exc
                refused = _refusal(uri, exc)
                if refused is None:
                    raise
                raise refused from exc
            return ObjectInfo(size=int(answer["ContentLength"]))

        return await self._retrying(f"reading the metadata of {uri}", call)

    @asynccontextmanager
    async def _get(
        self,
        uri: str,
        first_byte: int = 0,
        length: int | None = None,
        *,
        version_id: str | None = None,
        if_match: str | None = None,
    ) -> AsyncIterator[Answer]:
        """One signed GET of the object (or of `length` bytes from `first_byte`); with
        `if_match`, S3 answers 412 (StorageRefused) if the object's ETag is another."""
        bucket, key = object_of(uri)
        query = {"versionId": version_id} if version_id is not None else None
        headers = {}
        if length is not None:
            headers["Range"] = f"bytes={first_byte}-{first_byte + length - 1}"
        if if_match is not None:
            headers["If-Match"] = if_match

        def refused(status: int, body: str) -> Exception:
            if status == 404:
                return MissingObject(f"{uri} does not exist")
            return StorageRefused(uri, status, error_code(body) or "")

        async with self.signed.request(
            "GetObject", "GET", bucket, key, query=query, headers=headers, refused=refused
        ) as answer:
            yield answer

    async def read_range(
        self,
        uri: str,
        start: int,
        length: int,
        *,
        version_id: str | None = None,
        if_match: str | None = None,
    ) -> bytes:
        if length <= 0:
            return b""

        async def call() -> bytes:
            async with self._get(
                uri, start, length, version_id=version_id, if_match=if_match
            ) as answer:
                data = await answer.read()
                # A server that ignores Range sends the whole object (200, not 206).
                return data[start : start + length] if answer.status == 200 else data

        return await self._retrying(f"reading {uri}", call)

    async def consume(
        self,
        uri: str,
        sink: Callable[[bytes], Awaitable[None]],
        *,
        restart: Callable[[], Awaitable[None]] | None = None,
        on_length: Callable[[int], Awaitable[None]] | None = None,
        on_object: Callable[[ObjectInfo], Awaitable[None]] | None = None,
        version_id: str | None = None,
        if_match: str | None = None,
    ) -> int:
        """Stream the object (or one version of it) through `sink`, chunk by chunk. A retried
        read starts again from byte 0, so `restart` is awaited before every attempt to reset
        what the sink built; `on_length` hears the object's size before its first chunk (no
        HEAD needed), `on_object` its size, ETag and VersionId: which bytes these are."""

        async def call() -> int:
            if restart is not None:
                await restart()
            async with self._get(uri, version_id=version_id, if_match=if_match) as answer:
                if on_length is not None and answer.content_length is not None:
                    await on_length(answer.content_length)
                if on_object is not None:
                    await on_object(
                        ObjectInfo(
                            size=answer.content_length or 0,
                            etag=answer.headers.get("ETag"),
                            version_id=answer.headers.get("x-amz-version-id"),
                        )
                    )
                total = 0
                async for chunk in answer.iter_chunked(self.chunk_bytes):
                    total += len(chunk)
                    await sink(chunk)
            return total

        return await self._retrying(f"reading {uri}", call)

    async def download(
        self,
        uri: str,
        dest: Path,
        *,
        version_id: str | None = None,
        if_match: str | None = None,
    ) -> int:
        """Copy the object to a local file (for inspectors that need a path)."""
        handle = await asyncio.to_thread(dest.open, "wb")

        async def write(chunk: bytes) -> None:
            await asyncio.to_thread(handle.write, chunk)

        async def truncate() -> None:
            await asyncio.to_thread(handle.seek, 0)
            await asyncio.to_thread(handle.truncate)

        try:
            return await self.consume(
                uri, write, restart=truncate, version_id=version_id, if_match=if_match
            )
        finally:
            await asyncio.to_thread(handle.close)
