"""Uploading a model: the files of a path, and the transports that carry them to ingest.

Today's transport is ingest's streamed multipart form (`FormUpload`): one request, the
`metadata` part first, then one `file` part per file, read from disk one chunk at a time with
the length known in advance (no chunked encoding, and a progress bar with an ETA). A transport
is anything with `submit(...)` returning an operation, so a presigned-multipart transport that
sends the bytes straight to S3 can take its place without touching the callers.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from modelgate.errors import ModelgateError
from modelgate.models import SubmissionAccepted, SubmissionMetadata
from modelgate.progress import Progress
from modelgate.steps import Op, Send

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class LocalFile:
    source: Path
    name: str
    """Path inside the artifact (POSIX, relative to the directory submitted)."""
    size: int


def collect(path: Path) -> list[LocalFile]:
    """The files to submit: `path` itself, or every regular file under it with its relative
    path kept (`tokenizer/vocab.json`), in a stable order."""
    if path.is_file():
        return [LocalFile(path, path.name, path.stat().st_size)]
    if not path.is_dir():
        raise ModelgateError(f"{path}: no such file or directory")
    found = [
        LocalFile(p, p.relative_to(path).as_posix(), p.stat().st_size)
        for p in sorted(path.rglob("*"))
        if p.is_file()
    ]
    if not found:
        raise ModelgateError(f"{path}: the directory holds no files")
    return found


def idempotency_key(meta: SubmissionMetadata, files: list[LocalFile]) -> str:
    """The same model, version and files give the same key, so a retried submit (a timeout,
    a crash) finds the submission already made instead of making a second one."""
    digest = hashlib.sha256(f"{meta.name}\0{meta.version}".encode())
    for f in files:
        digest.update(f"\0{f.name}\0{f.size}\0{f.source.stat().st_mtime_ns}".encode())
    return f"{meta.name}-{meta.version}-{digest.hexdigest()[:24]}"[:128]


def _quoted(value: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise ModelgateError(f"file name {value!r} holds a line break or NUL")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class MultipartBody:
    """A multipart/form-data body produced chunk by chunk from the files on disk."""

    def __init__(self, metadata: bytes, files: list[LocalFile], chunk_size: int = CHUNK) -> None:
        self.files = files
        self.chunk_size = chunk_size
        self.boundary = f"modelgate-{secrets.token_hex(16)}"
        self._meta_part = self._head('name="metadata"', "application/json") + metadata + b"\r\n"
        self._file_heads = [
            self._head(f'name="file"; filename={_quoted(f.name)}', "application/octet-stream")
            for f in files
        ]
        self._tail = f"--{self.boundary}--\r\n".encode()

    def _head(self, disposition: str, content_type: str) -> bytes:
        return (
            f"--{self.boundary}\r\nContent-Disposition: form-data; {disposition}\r\n"
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def content_length(self) -> int:
        files = sum(len(h) + f.size + 2 for h, f in zip(self._file_heads, self.files, strict=True))
        return len(self._meta_part) + files + len(self._tail)

    def chunks(self, progress: Progress | None = None) -> Iterator[bytes]:
        if progress:
            progress.begin([(f.name, f.size) for f in self.files])
        yield self._meta_part
        for head, f in zip(self._file_heads, self.files, strict=True):
            yield head
            if progress:
                progress.start_file(f.name)
            sent = 0
            with f.source.open("rb") as stream:
                while chunk := stream.read(self.chunk_size):
                    sent += len(chunk)
                    yield chunk
                    if progress:
                        progress.advance(f.name, len(chunk))
            if sent != f.size:
                raise ModelgateError(f"{f.source} changed size while being sent")
            if progress:
                progress.finish_file(f.name)
            yield b"\r\n"
        yield self._tail

    async def achunks(self, progress: Progress | None = None) -> AsyncIterator[bytes]:
        """The same chunks, each disk read in a worker thread so the event loop keeps going."""
        chunks = self.chunks(progress)
        done = object()
        while (chunk := await asyncio.to_thread(next, chunks, done)) is not done:
            assert isinstance(chunk, bytes)
            yield chunk


class UploadTransport(Protocol):
    def submit(
        self,
        meta: SubmissionMetadata,
        files: list[LocalFile],
        key: str,
        progress: Progress | None,
    ) -> Op[SubmissionAccepted]:
        """Store the files and publish the submission; answers what ingest accepted."""


class FormUpload:
    """Ingest's streamed multipart endpoint: the bytes pass through ingest to S3."""

    def submit(
        self,
        meta: SubmissionMetadata,
        files: list[LocalFile],
        key: str,
        progress: Progress | None,
    ) -> Op[SubmissionAccepted]:
        body = MultipartBody(meta.model_dump_json(exclude_none=True).encode(), files)
        answer = yield Send(
            "ingest", "/api/v1/submissions", body, {"Idempotency-Key": key}, progress
        )
        return SubmissionAccepted.model_validate(answer)
