"""Integrity: every file exists, has the declared size, and the SHA-256 recomputed by streaming
it from S3 matches the declared one. Hashing runs in worker threads (hashlib releases the GIL),
so several files are hashed at once while the next chunks are being read."""

from __future__ import annotations

import asyncio

from modelgate_shared.events import ArtifactFile
from modelgate_validator.artifact_reader import MissingObject
from modelgate_validator.checks.base import CheckContext, Outcome

PARALLEL_FILES = 4


async def sha256_of(ctx: CheckContext, uri: str) -> str:
    digest, _ = await ctx.files.fetch(uri)
    return digest


class IntegrityCheck:
    name = "integrity"
    needs_storage = True

    async def run(self, ctx: CheckContext) -> Outcome:
        limit = asyncio.Semaphore(PARALLEL_FILES)

        async def one(item: ArtifactFile) -> str | None:
            async with limit:
                return await self._file(ctx, item)

        outcomes = await asyncio.gather(*(one(f) for f in ctx.submission.artifact.files))
        problems = [p for p in outcomes if p]
        if problems:
            return Outcome.failed("; ".join(problems))
        files = ctx.submission.artifact.files
        unverified = [f.path for f in files if f.sha256 is None]
        note = f" ({len(unverified)} without a declared SHA-256)" if unverified else ""
        count = f"{len(files)} file{'s' if len(files) != 1 else ''}"
        return Outcome.passed(f"{count}, {sum(ctx.sizes.values())} bytes, SHA-256 verified{note}")

    async def _file(self, ctx: CheckContext, item: ArtifactFile) -> str | None:
        try:
            actual, size = await ctx.files.fetch(item.uri)  # one GET: size and SHA-256
        except MissingObject:
            return f"{item.path}: object {item.uri} does not exist"
        ctx.sizes[item.path] = size
        if item.size is not None and size != item.size:
            return f"{item.path}: size is {size} bytes, declared {item.size}"
        if item.sha256 is not None and actual != item.sha256:
            return f"{item.path}: SHA-256 mismatch: expected {item.sha256}, actual {actual}"
        return None
