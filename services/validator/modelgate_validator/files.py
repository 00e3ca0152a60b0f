"""One submission's view of its files: small objects are read from S3 once, then from memory.

Each S3 request costs about a millisecond of client CPU (signing, parsing), which dominated
validation of small models. Integrity reads every file once anyway (to hash it); files up to
`small_limit` bytes are kept from that read, so format inspection asks S3 for nothing more.
Larger files are streamed and inspected with ranged reads, never held whole.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path

from modelgate_validator.artifact_reader import ArtifactReader, ObjectInfo

THREAD_HASH_BYTES = 1024 * 1024
"""Chunks this large are hashed in a worker thread (hashlib releases the GIL); smaller ones
inline, where the thread hop would cost more than the hash."""


@dataclass(frozen=True)
class Hashed:
    """What one streamed read of an object found: its digest, and which bytes those were (the
    ETag and VersionId the GET answered with), so the pinned copy can be made of exactly them."""

    sha256: str
    size: int
    etag: str | None
    version_id: str | None


class SubmissionFiles:
    def __init__(self, reader: ArtifactReader, small_limit: int) -> None:
        self.reader = reader
        self.small_limit = small_limit
        self.sizes: dict[str, int] = {}
        self.blobs: dict[str, bytes] = {}
        self.hashed: dict[str, Hashed] = {}
        """Every object hashed so far, by URI: what pinning copies and vouches for."""

    async def fetch(self, uri: str) -> tuple[str, int]:
        """SHA-256 (hex) and size of the object, from one streamed GET."""
        hasher = hashlib.sha256()
        kept: list[bytes] = []
        keep = False
        seen = ObjectInfo(0)

        async def restart() -> None:
            nonlocal hasher
            hasher = hashlib.sha256()
            kept.clear()

        async def on_length(length: int) -> None:
            nonlocal keep
            keep = length <= self.small_limit

        async def on_object(info: ObjectInfo) -> None:
            nonlocal seen
            seen = info

        async def sink(chunk: bytes) -> None:
            if len(chunk) >= THREAD_HASH_BYTES:
                await asyncio.to_thread(hasher.update, chunk)
            else:
                hasher.update(chunk)
            if keep:
                kept.append(chunk)

        size = await self.reader.consume(
            uri, sink, restart=restart, on_length=on_length, on_object=on_object
        )
        self.sizes[uri] = size
        if keep:
            self.blobs[uri] = b"".join(kept)
        digest = hasher.hexdigest()
        self.hashed[uri] = Hashed(digest, size, seen.etag, seen.version_id)
        return digest, size

    async def head(self, uri: str) -> ObjectInfo:
        if uri in self.sizes:
            return ObjectInfo(self.sizes[uri])
        info = await self.reader.head(uri)
        self.sizes[uri] = info.size
        return info

    def _same(self, uri: str) -> dict[str, str | None]:
        """Later reads inspect the bytes hashed: that version, and `If-Match` their ETag (an
        unversioned object rewritten since is refused with 412, never inspected instead)."""
        hashed = self.hashed.get(uri)
        if hashed is None:
            return {}
        return {"version_id": hashed.version_id, "if_match": hashed.etag}

    async def read_range(self, uri: str, start: int, length: int) -> bytes:
        blob = self.blobs.get(uri)
        if blob is not None:
            return blob[start : start + max(length, 0)]
        return await self.reader.read_range(uri, start, length, **self._same(uri))

    async def download(self, uri: str, dest: Path) -> int:
        blob = self.blobs.get(uri)
        if blob is not None:
            await asyncio.to_thread(dest.write_bytes, blob)
            return len(blob)
        return await self.reader.download(uri, dest, **self._same(uri))
