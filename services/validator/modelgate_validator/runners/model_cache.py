"""The local copy a server loads a model from: streamed from S3, SHA-256-verified, and reused
while unchanged.

Files are stored by content (`blobs/<sha256>`), so a model submitted again, or a new version
that shares files with an old one, is not downloaded again; a model is a directory of links to
its blobs (`models/<digest of its file list>/<path>`), laid out as the artifact is, which is
what `vllm serve <dir>` and `llama.cpp --model <file>` expect. Least recently used blobs are
evicted when the cache grows past its limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import uuid
from pathlib import Path

from modelgate_shared.events import Artifact
from modelgate_validator.artifact_reader import ArtifactReader
from modelgate_validator.checks.benchmark import BenchmarkFailed

log = logging.getLogger(__name__)


class ChecksumMismatch(BenchmarkFailed):
    pass


class ModelCache:
    def __init__(self, root: Path, reader: ArtifactReader, *, max_bytes: int) -> None:
        self.root = root
        self.reader = reader
        self.max_bytes = max_bytes
        self.blobs = root / "blobs"
        self.models = root / "models"
        self.partial = root / "partial"
        self.reused = 0
        """Files found in the cache (rather than downloaded) by this instance, for the logs."""

    async def fetch(self, artifact: Artifact) -> Path:
        """A local directory holding every file of `artifact` at its relative path."""
        for directory in (self.blobs, self.models, self.partial):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        digests = {f.path: await self._blob(f.uri, f.sha256) for f in artifact.files}
        listing = "\n".join(f"{path} {digest}" for path, digest in sorted(digests.items()))
        model_dir = self.models / hashlib.sha256(listing.encode()).hexdigest()[:32]
        if not model_dir.exists():
            staging = self.models / f".{uuid.uuid4().hex}"
            for path, digest in digests.items():
                target = staging / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(self.blobs / digest)
            try:
                staging.rename(model_dir)
            except OSError:  # another validation built the same directory meanwhile
                shutil.rmtree(staging, ignore_errors=True)
        await asyncio.to_thread(self._evict, keep=set(digests.values()))
        return model_dir

    async def _blob(self, uri: str, sha256: str | None) -> str:
        if sha256 is not None and (self.blobs / sha256).exists():
            os.utime(self.blobs / sha256)  # recently used: evicted last
            self.reused += 1
            log.info("model cache: reusing %s for %s", sha256, uri)
            return sha256
        partial = self.partial / uuid.uuid4().hex
        hasher = hashlib.sha256()
        handle = await asyncio.to_thread(partial.open, "wb")

        async def write(chunk: bytes) -> None:
            await asyncio.to_thread(hasher.update, chunk)
            await asyncio.to_thread(handle.write, chunk)

        async def restart() -> None:
            nonlocal hasher
            hasher = hashlib.sha256()
            await asyncio.to_thread(handle.seek, 0)
            await asyncio.to_thread(handle.truncate)

        try:
            try:
                await self.reader.consume(uri, write, restart=restart)
            finally:
                await asyncio.to_thread(handle.close)
            actual = hasher.hexdigest()
            if sha256 is not None and actual != sha256:
                raise ChecksumMismatch(f"{uri}: SHA-256 is {actual}, expected {sha256}")
            partial.chmod(0o400)
            partial.replace(self.blobs / actual)  # atomic: a blob is complete or absent
            return actual
        finally:
            partial.unlink(missing_ok=True)

    def _evict(self, keep: set[str]) -> None:
        blobs = [(p.stat().st_mtime, p) for p in self.blobs.iterdir() if p.is_file()]
        total = sum(p.stat().st_size for _, p in blobs)
        for _, path in sorted(blobs):
            if total <= self.max_bytes:
                break
            if path.name in keep:
                continue
            total -= path.stat().st_size
            path.unlink(missing_ok=True)
            log.info("model cache: evicted %s", path.name)
        # Model directories whose blobs were evicted are dangling: remove them.
        for model_dir in self.models.iterdir():
            links = [p for p in model_dir.rglob("*") if p.is_symlink()]
            if any(not link.exists() for link in links):
                shutil.rmtree(model_dir, ignore_errors=True)
