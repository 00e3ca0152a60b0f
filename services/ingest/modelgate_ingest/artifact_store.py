"""Streaming files into S3 with SHA-256 computed on the fly and memory bounded by the part size.

Small files go up in one PUT; larger ones as an S3 multipart upload. Every request carries a
SHA-256 the server verifies (per part for multipart), and the whole file's SHA-256 — what the
contract carries and the validator recomputes — is computed as the bytes pass. Hashing runs in
worker threads (hashlib releases the GIL) while the next part is being received, and at most
`max_in_flight` parts are being sent at once, so memory stays near (max_in_flight + 1) parts.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

from modelgate_shared.errors import ApiError


@dataclass(frozen=True)
class StoredObject:
    key: str
    sha256: str
    size: int


def _b64_sha256(data: bytes | bytearray | memoryview) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@dataclass
class Upload:
    """One file being written: feed it chunks, then `finish()` (or `abort()`)."""

    s3: Any
    bucket: str
    key: str
    part_size: int
    max_bytes: int
    max_in_flight: int = 2
    size: int = 0
    _chunks: list[bytes] = field(default_factory=list)
    _pending: int = 0
    _hasher: Any = field(default_factory=hashlib.sha256)
    _upload_id: str | None = None
    _parts: list[dict[str, Any]] = field(default_factory=list)
    _in_flight: set[asyncio.Task[None]] = field(default_factory=set)
    _hashing: asyncio.Task[None] | None = None

    async def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise ApiError(
                413, f"file {self.key.rsplit('/', 1)[-1]!r} exceeds the {self.max_bytes}-byte limit"
            )
        # Chunks are kept as they came and joined once per part: one copy of each byte.
        self._chunks.append(data)
        self._pending += len(data)
        if self._pending >= self.part_size:
            overflow = self._pending - self.part_size
            last = self._chunks[-1]
            head, rest = last[: len(last) - overflow], last[len(last) - overflow :]
            part = b"".join([*self._chunks[:-1], head])
            self._chunks, self._pending = ([rest] if rest else []), len(rest)
            await self._send_part(part)

    async def _hash_after(self, previous: asyncio.Task[None] | None, part: bytes) -> None:
        # The whole-file hash must see parts in order: each update waits for the one before.
        if previous is not None:
            await previous
        await asyncio.to_thread(self._hasher.update, part)

    async def _send_part(self, part: bytes) -> None:
        if self._upload_id is None:
            answer = await self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ChecksumAlgorithm="SHA256"
            )
            self._upload_id = answer["UploadId"]
        self._hashing = asyncio.ensure_future(self._hash_after(self._hashing, part))
        while len(self._in_flight) >= self.max_in_flight:
            done, self._in_flight = await asyncio.wait(
                self._in_flight, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                task.result()
        number = len(self._parts) + 1
        record: dict[str, Any] = {"PartNumber": number}
        self._parts.append(record)
        self._in_flight.add(asyncio.ensure_future(self._upload_part(number, part, record)))

    async def _upload_part(self, number: int, part: bytes, record: dict[str, Any]) -> None:
        checksum = await asyncio.to_thread(_b64_sha256, part)
        answer = await self.s3.upload_part(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=part,
            ChecksumSHA256=checksum,
        )
        record.update(ETag=answer["ETag"], ChecksumSHA256=answer["ChecksumSHA256"])

    async def finish(self) -> StoredObject:
        if self._upload_id is None:
            # One request: the server checks the whole object's SHA-256 itself.
            data = b"".join(self._chunks)
            self._hasher.update(data)
            digest = self._hasher.hexdigest()
            await self.s3.put_object(
                Bucket=self.bucket,
                Key=self.key,
                Body=data,
                ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode(),
                Metadata={"sha256": digest},
            )
            return StoredObject(self.key, digest, self.size)
        if self._pending:
            await self._send_part(b"".join(self._chunks))
            self._chunks, self._pending = [], 0
        await asyncio.gather(*self._in_flight)
        if self._hashing is not None:
            await self._hashing
        await self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        return StoredObject(self.key, self._hasher.hexdigest(), self.size)

    async def abort(self) -> None:
        for task in self._in_flight:
            task.cancel()
        await asyncio.gather(*self._in_flight, return_exceptions=True)
        if self._upload_id is not None:
            await self.s3.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self._upload_id
            )


class ArtifactStore:
    def __init__(self, s3: Any, bucket: str, *, part_size: int, max_file_bytes: int) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.part_size = part_size
        self.max_file_bytes = max_file_bytes

    def begin(self, key: str) -> Upload:
        return Upload(self.s3, self.bucket, key, self.part_size, self.max_file_bytes)

    async def delete(self, keys: list[str]) -> None:
        """Remove what a failed submission already stored (no orphans in staging)."""
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            if chunk:
                await self.s3.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in chunk]}
                )

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"
