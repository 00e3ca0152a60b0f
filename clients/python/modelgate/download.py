"""Downloading a version: where each file goes, resuming partial copies, checking SHA-256.

A file is written to `<dest>/<path>.part` and renamed only once its SHA-256 matches what the
registry pinned, so a file under its real name is always a verified one. An interrupted
download leaves the `.part`; the next run hashes what is there and asks for the rest with an
HTTP Range request on the presigned URL.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from modelgate.errors import ChecksumMismatch, ModelgateError
from modelgate.models import DownloadFile

READ = 1024 * 1024


def target_of(dest: Path, file: DownloadFile) -> Path:
    """Where `file` lands under `dest`; a path that would leave `dest` is refused."""
    relative = PurePosixPath(file.path)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ModelgateError(f"the registry named an unsafe file path {file.path!r}")
    return dest.joinpath(*relative.parts)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(READ):
            digest.update(chunk)
    return digest.hexdigest()


class PartialFile:
    """The `.part` file of one download: how much is there, its running hash, the rest."""

    def __init__(self, target: Path, file: DownloadFile) -> None:
        self.target = target
        self.file = file
        self.part = target.with_name(target.name + ".part")
        self.digest = hashlib.sha256()
        self.offset = 0
        self._out: BinaryIO | None = None

    def already_complete(self) -> bool:
        """The final file is there and verified (a rerun after a finished download)."""
        if not self.target.is_file() or self.file.sha256 is None:
            return False
        if self.file.size is not None and self.target.stat().st_size != self.file.size:
            return False
        return sha256_of(self.target) == self.file.sha256

    def open(self) -> int:
        """Hash what a previous run left; answers the offset to resume from."""
        self.target.parent.mkdir(parents=True, exist_ok=True)
        if self.part.exists():
            size = self.part.stat().st_size
            if self.file.size is not None and size > self.file.size:
                self.part.unlink()
            else:
                with self.part.open("rb") as stream:
                    while chunk := stream.read(READ):
                        self.digest.update(chunk)
                self.offset = size
        self._out = self.part.open("ab")
        return self.offset

    def range_header(self) -> dict[str, str]:
        return {"Range": f"bytes={self.offset}-"} if self.offset else {}

    def restart(self) -> None:
        """The server ignored the Range: start over from byte 0."""
        self.digest = hashlib.sha256()
        self.offset = 0
        assert self._out is not None
        self._out.seek(0)
        self._out.truncate()

    def write(self, chunk: bytes) -> None:
        assert self._out is not None
        self._out.write(chunk)
        self.digest.update(chunk)
        self.offset += len(chunk)

    def complete(self) -> str:
        """Check the SHA-256 and move the file under its real name; answers the digest."""
        self.close()
        actual = self.digest.hexdigest()
        expected = self.file.sha256
        if expected is not None and actual != expected:
            # A corrupt copy must not be resumed from: the next run starts afresh.
            self.part.unlink(missing_ok=True)
            raise ChecksumMismatch(self.file.path, expected, actual)
        os.replace(self.part, self.target)
        return actual

    def close(self) -> None:
        """Flush what arrived; an interrupted download keeps it for the next run."""
        if self._out is not None:
            self._out.close()
            self._out = None
