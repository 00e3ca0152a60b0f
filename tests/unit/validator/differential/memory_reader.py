"""A `Reader` over bytes in memory that counts what was asked of it, so a test can tell the
inspectors never read a large file whole."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from modelgate_validator.artifact_reader import ObjectInfo


@dataclass
class MemoryReader:
    blobs: dict[str, bytes]
    bytes_read: int = 0
    reads: list[tuple[int, int]] = field(default_factory=list)

    async def head(self, uri: str) -> ObjectInfo:
        return ObjectInfo(len(self.blobs[uri]))

    async def read_range(self, uri: str, start: int, length: int) -> bytes:
        data = self.blobs[uri][start : start + max(length, 0)]
        self.bytes_read += len(data)
        self.reads.append((start, length))
        return data

    async def download(self, uri: str, dest: Path) -> int:
        await asyncio.to_thread(dest.write_bytes, self.blobs[uri])
        self.bytes_read += len(self.blobs[uri])
        return len(self.blobs[uri])
