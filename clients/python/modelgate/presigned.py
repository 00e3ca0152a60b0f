"""Resumable, parallel uploads straight to S3 with URLs ingest presigns (`/api/v1/uploads`).

The operation (`PresignedUpload.submit`) asks ingest for an upload under the submission's
Idempotency-Key, so a rerun of the same command gets the same upload back with the parts S3
already holds; then one `PutParts` step sends the rest; then `complete` publishes the
submission. The step is performed by the driver (threads for `Client`, tasks for
`AsyncClient`) with the code here, the same for both:

- each part is read from disk twice, one MiB at a time: once for its SHA-256 (ingest binds it
  into the URL, S3 refuses bytes that do not match), once while it is sent. Memory stays at a
  few MiB whatever the part size or the number in flight (`concurrency`, default 4);
- a part S3 already holds with the same SHA-256 is not sent again;
- each file's whole SHA-256 (declared on completion; the validator recomputes it) is hashed
  by a thread of its own while the parts go up, and kept in the state file, so a resumed run
  does not hash a finished file again;
- the state file (`~/.cache/modelgate/uploads/<key>.json`, or `MODELGATE_UPLOAD_STATE_DIR`)
  records the upload id, the files' sizes, mtimes and SHA-256s, and the bytes sent so far
  (in all runs); it is removed once the upload completed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from modelgate.errors import ModelgateError, NotFound
from modelgate.http import raise_for
from modelgate.models import SubmissionAccepted, SubmissionMetadata
from modelgate.progress import Progress
from modelgate.steps import Call, Op, PutParts
from modelgate.upload import FormUpload, LocalFile

READ = 1024 * 1024
ATTEMPTS = 3


def state_dir() -> Path:
    explicit = os.environ.get("MODELGATE_UPLOAD_STATE_DIR")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "modelgate" / "uploads"


def state_path(key: str) -> Path:
    return state_dir() / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def _mtime_ns(f: LocalFile) -> int:
    return f.source.stat().st_mtime_ns


@dataclass(frozen=True)
class Part:
    file: LocalFile
    number: int
    offset: int
    length: int
    remote_sha256: str | None
    """What S3 already holds for this part (hex), if anything."""


@dataclass
class UploadJournal:
    """The resume state file: read at the start, rewritten as parts land."""

    path: Path
    key: str
    upload_id: str = ""
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    bytes_sent: int = 0
    """Bytes sent to S3 by every run of this upload so far."""
    bytes_total: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, key: str, files: list[LocalFile]) -> UploadJournal:
        path = state_path(key)
        journal = cls(path, key, bytes_total=sum(f.size for f in files))
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError):
            saved = {}
        if isinstance(saved, dict) and saved.get("key") == key:
            journal.upload_id = str(saved.get("upload_id", ""))
            journal.bytes_sent = int(saved.get("bytes_sent", 0))
            old = saved.get("files") or {}
            for f in files:
                entry = old.get(f.name) if isinstance(old, dict) else None
                # A file whose size or mtime moved is hashed again.
                if (
                    isinstance(entry, dict)
                    and entry.get("size") == f.size
                    and entry.get("mtime_ns") == _mtime_ns(f)
                ):
                    journal.files[f.name] = entry
        for f in files:
            journal.files.setdefault(f.name, {"size": f.size, "mtime_ns": _mtime_ns(f)})
        return journal

    def sha256(self, name: str) -> str | None:
        value = self.files.get(name, {}).get("sha256")
        return value if isinstance(value, str) else None

    def set_sha256(self, name: str, digest: str) -> None:
        with self._lock:
            self.files[name]["sha256"] = digest
        self.save()

    def sent(self, nbytes: int) -> None:
        with self._lock:
            self.bytes_sent += nbytes

    def save(self) -> None:
        with self._lock:
            body = {
                "key": self.key,
                "upload_id": self.upload_id,
                "files": self.files,
                "bytes_sent": self.bytes_sent,
                "bytes_total": self.bytes_total,
                "updated_at": time.time(),
            }
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(body))
            os.replace(tmp, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass
class UploadStats:
    bytes_total: int = 0
    bytes_sent: int = 0
    """Bytes sent to S3 by this run (a part sent twice counts twice)."""
    bytes_skipped: int = 0
    """Bytes S3 already held from an earlier run."""
    parts_sent: int = 0
    parts_skipped: int = 0
    seconds: float = 0.0
    upload_id: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "upload_id": self.upload_id,
            "bytes_total": self.bytes_total,
            "bytes_sent": self.bytes_sent,
            "bytes_skipped": self.bytes_skipped,
            "parts_sent": self.parts_sent,
            "parts_skipped": self.parts_skipped,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class PartsJob:
    """What `PutParts` carries: the parts to check or send, and where to report."""

    upload_id: str
    files: list[LocalFile]
    parts: list[Part]
    journal: UploadJournal
    stats: UploadStats
    progress: Progress | None
    concurrency: int = 4
    _progress_lock: threading.Lock = field(default_factory=threading.Lock)
    _left: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for f in self.files:
            self._left[f.name] = sum(1 for p in self.parts if p.file.name == f.name)

    # -- pieces both drivers use ---------------------------------------------------------------

    def begin(self) -> None:
        if self.progress:
            self.progress.begin([(f.name, f.size) for f in self.files])
            for f in self.files:
                self.progress.start_file(f.name)
                if self._left[f.name] == 0:
                    self.progress.finish_file(f.name)

    def advance(self, name: str, nbytes: int) -> None:
        if self.progress:
            with self._progress_lock:
                self.progress.advance(name, nbytes)

    def part_done(self, part: Part, *, sent: bool) -> None:
        with self.stats._lock:
            if sent:
                self.stats.parts_sent += 1
            else:
                self.stats.parts_skipped += 1
                self.stats.bytes_skipped += part.length
        if not sent:
            self.advance(part.file.name, part.length)
        self.journal.save()
        with self._progress_lock:
            self._left[part.file.name] -= 1
            last = self._left[part.file.name] == 0
            if last and self.progress:
                self.progress.finish_file(part.file.name)

    def count_sent(self, name: str, nbytes: int) -> None:
        with self.stats._lock:
            self.stats.bytes_sent += nbytes
        self.journal.sent(nbytes)
        self.advance(name, nbytes)

    def hash_files(self) -> dict[str, str]:
        """Each file's whole SHA-256 (the state file's, when it has it)."""
        out = {}
        for f in self.files:
            known = self.journal.sha256(f.name)
            if known is None:
                known = sha256_file(f)
                self.journal.set_sha256(f.name, known)
            out[f.name] = known
        return out


def sha256_file(f: LocalFile) -> str:
    digest = hashlib.sha256()
    with f.source.open("rb") as stream:
        while chunk := stream.read(READ):
            digest.update(chunk)
    if stream_size(f) != f.size:
        raise ModelgateError(f"{f.source} changed size during the upload")
    return digest.hexdigest()


def stream_size(f: LocalFile) -> int:
    return f.source.stat().st_size


def sha256_part(part: Part) -> str:
    digest = hashlib.sha256()
    left = part.length
    with part.file.source.open("rb") as stream:
        stream.seek(part.offset)
        while left:
            chunk = stream.read(min(READ, left))
            if not chunk:
                raise ModelgateError(f"{part.file.source} is shorter than when it was listed")
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def part_chunks(part: Part, job: PartsJob) -> Iterator[bytes]:
    left = part.length
    with part.file.source.open("rb") as stream:
        stream.seek(part.offset)
        while left:
            chunk = stream.read(min(READ, left))
            if not chunk:
                raise ModelgateError(f"{part.file.source} is shorter than when it was listed")
            left -= len(chunk)
            yield chunk
            job.count_sent(part.file.name, len(chunk))


def _part_request(part: Part, digest: str) -> dict[str, Any]:
    return {"parts": [{"path": part.file.name, "number": part.number, "sha256": digest}]}


def _check_put(response: httpx.Response, part: Part) -> None:
    if response.status_code >= 300:
        raise ModelgateError(
            f"S3 refused part {part.number} of {part.file.name} "
            f"({response.status_code}: {response.text[:300]})"
        )


# -- the synchronous driver -------------------------------------------------------------------


def run_sync(
    job: PartsJob, http: httpx.Client, ingest_url: str, headers: dict[str, str]
) -> dict[str, str]:
    """Send the job's parts from a pool of threads, hashing the files beside them."""
    job.begin()
    began = time.perf_counter()

    def one(part: Part) -> None:
        digest = sha256_part(part)
        if digest == part.remote_sha256:
            job.part_done(part, sent=False)
            return
        for attempt in range(1, ATTEMPTS + 1):
            answer = http.post(
                f"{ingest_url}/api/v1/uploads/{job.upload_id}/parts",
                json=_part_request(part, digest),
                headers=headers,
            )
            raise_for(answer)
            url = answer.json()["parts"][0]
            try:
                response = http.put(
                    url["url"],
                    content=part_chunks(part, job),
                    headers={**url["headers"], "Content-Length": str(part.length)},
                )
                _check_put(response, part)
            except (httpx.TransportError, ModelgateError):
                if attempt == ATTEMPTS:
                    raise
                continue
            job.part_done(part, sent=True)
            return

    # `concurrency` workers send parts; one more hashes the files meanwhile (submitted first).
    pool = ThreadPoolExecutor(max_workers=job.concurrency + 1, thread_name_prefix="modelgate-up")
    try:
        hashing = pool.submit(job.hash_files)
        futures = [pool.submit(one, part) for part in job.parts]
        for future in futures:
            future.result()
        digests = hashing.result()
    except BaseException:
        # Ctrl-C or a failed part: queued parts are dropped, those in flight finish.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    job.stats.seconds += time.perf_counter() - began
    return digests


# -- the asynchronous driver ------------------------------------------------------------------


async def _achunks(part: Part, job: PartsJob) -> AsyncIterator[bytes]:
    chunks = part_chunks(part, job)
    done = object()
    while (chunk := await asyncio.to_thread(next, chunks, done)) is not done:
        assert isinstance(chunk, bytes)
        yield chunk


async def run_async(
    job: PartsJob, http: httpx.AsyncClient, ingest_url: str, headers: dict[str, str]
) -> dict[str, str]:
    job.begin()
    began = time.perf_counter()
    slots = asyncio.Semaphore(job.concurrency)

    async def one(part: Part) -> None:
        async with slots:
            digest = await asyncio.to_thread(sha256_part, part)
            if digest == part.remote_sha256:
                job.part_done(part, sent=False)
                return
            for attempt in range(1, ATTEMPTS + 1):
                answer = await http.post(
                    f"{ingest_url}/api/v1/uploads/{job.upload_id}/parts",
                    json=_part_request(part, digest),
                    headers=headers,
                )
                raise_for(answer)
                url = answer.json()["parts"][0]
                try:
                    response = await http.put(
                        url["url"],
                        content=_achunks(part, job),
                        headers={**url["headers"], "Content-Length": str(part.length)},
                    )
                    _check_put(response, part)
                except (httpx.TransportError, ModelgateError):
                    if attempt == ATTEMPTS:
                        raise
                    continue
                job.part_done(part, sent=True)
                return

    hashing = asyncio.ensure_future(asyncio.to_thread(job.hash_files))
    tasks = [asyncio.ensure_future(one(p)) for p in job.parts]
    try:
        await asyncio.gather(*tasks)
        digests = await hashing
    except BaseException:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*tasks, return_exceptions=True)
        raise
    job.stats.seconds += time.perf_counter() - began
    return digests


# -- the transport ----------------------------------------------------------------------------


def plan_parts(files: list[LocalFile], answer: dict[str, Any]) -> list[Part]:
    """Every part of every file, in order, with what S3 already holds for each."""
    by_path = {f["path"]: f for f in answer["files"]}
    parts = []
    for f in files:
        remote = by_path.get(f.name)
        if remote is None or remote["size"] != f.size:
            raise ModelgateError(f"ingest's upload does not list {f.name} with {f.size} bytes")
        held = {p["number"]: p for p in remote.get("parts", [])}
        size, part_size = f.size, int(remote["part_size"])
        for number in range(1, int(remote["part_count"]) + 1):
            offset = (number - 1) * part_size
            length = min(part_size, size - offset)
            there = held.get(number)
            same = there is not None and there.get("size") == length
            parts.append(
                Part(f, number, offset, length, there.get("sha256") if there and same else None)
            )
    return parts


class PresignedUpload:
    """Ingest's presigned multipart API: the bytes go straight to S3, several parts at once,
    and a rerun resumes. `fallback` (default: the streamed form) is used when ingest does
    not offer the API (404)."""

    def __init__(self, concurrency: int = 4, fallback: FormUpload | None = None) -> None:
        self.concurrency = concurrency
        self.fallback = fallback
        self.stats = UploadStats()

    def submit(
        self,
        meta: SubmissionMetadata,
        files: list[LocalFile],
        key: str,
        progress: Progress | None,
    ) -> Op[SubmissionAccepted]:
        journal = UploadJournal.load(key, files)
        body = {
            **meta.model_dump(mode="json", exclude_none=True),
            "files": [{"path": f.name, "size": f.size} for f in files],
        }
        try:
            answer = yield Call(
                "ingest", "POST", "/api/v1/uploads", json=body, headers={"Idempotency-Key": key}
            )
        except NotFound:
            if self.fallback is None:
                raise
            return (yield from self.fallback.submit(meta, files, key, progress))
        upload_id = str(answer["upload_id"])
        self.stats = UploadStats(bytes_total=journal.bytes_total, upload_id=upload_id)
        if answer["state"] != "completed":
            journal.upload_id = upload_id
            journal.save()
            job = PartsJob(
                upload_id,
                files,
                plan_parts(files, answer),
                journal,
                self.stats,
                progress,
                self.concurrency,
            )
            digests: dict[str, str] = yield PutParts(job)
        else:
            digests = {f.name: journal.sha256(f.name) or "" for f in files}
        complete = {"files": [{"path": n, "sha256": d} for n, d in digests.items() if d]}
        accepted = yield Call(
            "ingest", "POST", f"/api/v1/uploads/{upload_id}/complete", json=complete
        )
        journal.remove()
        return SubmissionAccepted.model_validate(accepted)
