"""A `Reader` over bytes in memory that counts what was asked of it, so a test can tell the
inspectors never read a large file whole."""

from __future__ import annotations

import asyncio
import os
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


def _read(path: str, start: int, length: int) -> bytes:
    with Path(path).open("rb") as handle:
        handle.seek(start)
        return handle.read(max(length, 0))


@dataclass
class FileReader:
    """A `Reader` over local files (uri = path), for files too large to hold, such as sparse
    copies that declare gigabytes of tensor data."""

    bytes_read: int = 0

    async def head(self, uri: str) -> ObjectInfo:
        return ObjectInfo(await asyncio.to_thread(os.path.getsize, uri))

    async def read_range(self, uri: str, start: int, length: int) -> bytes:
        data = _read(uri, start, length)  # small local reads: no thread hop in a test double
        self.bytes_read += len(data)
        return data

    async def download(self, uri: str, dest: Path) -> int:
        raise NotImplementedError("structural checks read ranges only")
