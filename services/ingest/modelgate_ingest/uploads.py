"""Presigned multipart uploads: the client sends the bytes straight to S3, ingest only signs.

`POST /api/v1/uploads` makes a pending submission and one S3 multipart upload per file (a
file of 0 bytes is stored at once); the client asks for a presigned `UploadPart` URL per part,
naming the part's SHA-256, which is bound into the URL's signature as `x-amz-checksum-sha256`
so S3 refuses a part whose bytes do not match (and a request without that header). `GET`
lists the parts S3 already holds (ListParts), so an interrupted client resumes where it
stopped. `complete` checks that every part is there with the planned sizes, completes each
file's multipart upload and publishes `model.submitted` through the same path as a streamed
upload (the declared whole-file SHA-256s go into the event; the validator recomputes them).
`DELETE`, or the sweeper after `MODELGATE_UPLOAD_ABANDON_AFTER_S` without a request, aborts
the multipart uploads (S3 drops their parts) and marks the submission `abandoned`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from modelgate_ingest.service import (
    Accepted,
    IngestService,
    request_digest,
    submission_id_for,
)
from modelgate_ingest.status import SubmissionStatus
from modelgate_ingest.submissions import (
    SubmissionMetadata,
    build_submitted,
    check_file_name,
    check_metadata,
)
from modelgate_shared.errors import ApiError
from modelgate_shared.events import ArtifactFile
from modelgate_shared.events.codec import MAX_EVENT_BYTES

log = logging.getLogger(__name__)

MiB = 1024 * 1024
MAX_PARTS = 10_000
"""S3's limit of parts per multipart upload."""
MAX_PART_BYTES = 5 * 1024 * MiB
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_HEX = r"^[0-9a-f]{64}$"


class UploadFileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=1024)
    """Path inside the artifact (`tokenizer/vocab.json`)."""
    size: int = Field(ge=0)
    sha256: str | None = Field(None, pattern=_HEX)
    """The whole file's SHA-256, if known now; else it is declared on completion."""


class UploadRequest(SubmissionMetadata):
    """The submission's metadata and the files to come (path, size, optional SHA-256)."""

    files: list[UploadFileIn] = Field(min_length=1, max_length=10000)


class PartOut(BaseModel):
    number: int
    size: int
    sha256: str | None
    """Hex SHA-256 S3 verified for this part."""


class UploadFileOut(BaseModel):
    path: str
    size: int
    sha256: str | None
    part_size: int
    part_count: int
    parts: list[PartOut]
    """Parts S3 already holds (an open upload only)."""


class UploadOut(BaseModel):
    upload_id: UUID
    submission_id: UUID
    state: str
    """open (parts may be sent), completed (model.submitted published) or aborted."""
    submission_status: str
    status_url: str
    abandon_after_s: float
    """An open upload with no request for this long is aborted."""
    files: list[UploadFileOut]


class PartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=1024)
    number: int = Field(ge=1, le=MAX_PARTS)
    sha256: str = Field(pattern=_HEX)
    """The part's SHA-256 (hex): S3 refuses bytes that do not match it."""


class PartsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parts: list[PartRequest] = Field(min_length=1, max_length=100)


class PartUrl(BaseModel):
    path: str
    number: int
    size: int
    url: str
    method: str = "PUT"
    headers: dict[str, str]
    """Send exactly these headers (the checksum is part of the signature)."""


class PartUrls(BaseModel):
    expires_in: int
    parts: list[PartUrl]


class CompleteFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=1024)
    sha256: str = Field(pattern=_HEX)


class CompleteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    files: list[CompleteFile] = Field(default_factory=list, max_length=10000)
    """Each file's whole SHA-256, unless it was declared when the upload was made."""


SHA256_BYTES_PER_FILE = 90
"""What completing adds to each file of the event: `"sha256": "<64 hex>",` and a margin."""
ENVELOPE_BYTES = 2048
"""The CloudEvent envelope around the submission (ids, type, source, subject, time)."""


def plan_part_size(size: int, minimum: int) -> int:
    """The smallest multiple of 1 MiB, at least `minimum`, that fits `size` in 10,000 parts."""
    needed = -(-size // MAX_PARTS)
    part = max(minimum, -(-needed // MiB) * MiB)
    if part > MAX_PART_BYTES:
        raise ApiError(413, f"a file of {size} bytes does not fit in {MAX_PARTS} parts of 5 GiB")
    return part


def part_count(size: int, part_size: int) -> int:
    return max(1, -(-size // part_size)) if size else 0


def part_length(size: int, part_size: int, number: int) -> int:
    return min(part_size, size - (number - 1) * part_size)


def _b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def _hex(b64: str | None) -> str | None:
    return base64.b64decode(b64).hex() if b64 else None


@dataclass
class UploadRow:
    upload_id: UUID
    submitter: str
    metadata: dict[str, Any]
    files: list[dict[str, Any]]
    state: str

    @classmethod
    def of(cls, row: asyncpg.Record | dict[str, Any]) -> UploadRow:
        def _json(value: Any) -> Any:
            return json.loads(value) if isinstance(value, str) else value

        return cls(
            row["upload_id"],
            row["submitter"],
            _json(row["metadata"]),
            _json(row["files"]),
            row["state"],
        )

    def file(self, path: str) -> dict[str, Any]:
        for item in self.files:
            if item["path"] == path:
                return item
        raise ApiError(422, f"upload {self.upload_id} has no file {path!r}")


class UploadService:
    def __init__(self, ingest: IngestService) -> None:
        self.ingest = ingest
        self.settings = ingest.settings
        self.s3 = ingest.store.s3
        self.bucket = ingest.store.bucket
        self.pool = ingest.repository.pool

    # -- the table ----------------------------------------------------------------------------

    async def _get(self, upload_id: UUID, submitter: str | None) -> UploadRow:
        row = await self.pool.fetchrow(
            "SELECT * FROM ingest.uploads WHERE upload_id = $1", upload_id
        )
        # Someone else's upload is not there for this principal: 404, never 403 (no probing).
        if row is None or (submitter is not None and row["submitter"] != submitter):
            raise ApiError(404, f"no upload {upload_id}")
        return UploadRow.of(row)

    async def _touch(self, upload_id: UUID) -> None:
        await self.pool.execute(
            "UPDATE ingest.uploads SET last_activity_at = now() WHERE upload_id = $1", upload_id
        )

    async def _save_files(self, upload: UploadRow) -> None:
        await self.pool.execute(
            "UPDATE ingest.uploads SET files = $2::jsonb, last_activity_at = now() "
            "WHERE upload_id = $1",
            upload.upload_id,
            json.dumps(upload.files),
        )

    # -- making one ---------------------------------------------------------------------------

    async def create(self, request: UploadRequest, submitter: str, key: str | None) -> UploadOut:
        digest = request_digest("presigned", request)
        submission_id = submission_id_for(submitter, key)
        if key:
            existing = await self.ingest.repository.by_idempotency_key(submitter, key)
            if existing is not None:
                if existing["request_digest"] != digest:
                    raise ApiError(
                        422,
                        f"Idempotency-Key {key!r} was first used for a different request "
                        f"(submission {existing['submission_id']}, {existing['name']} "
                        f"{existing['version']}); a new submission needs a new key",
                    )
                upload = await self._get(existing["submission_id"], submitter)
                if upload.state == "aborted":
                    await self._reopen(upload)
                return await self.describe(upload.upload_id, submitter)
        check_metadata(request, self.ingest.policy)
        prefix = f"{self.settings.staging_prefix}/{submission_id}/"
        files = self._plan(request, prefix)
        meta = SubmissionMetadata.model_validate(
            request.model_dump(exclude={"files"}, exclude_unset=True)
        )
        submission = build_submitted(
            submission_id,
            meta,
            submitter,
            self.ingest.store.uri(prefix),
            [
                ArtifactFile(path=f["path"], uri=self.ingest.store.uri(f["key"]), size=f["size"])
                for f in files
            ],
        )
        # The completed submission must fit in one event (its SHA-256s added): refused now,
        # not after the bytes are up and every consumer dead-letters it.
        size = len(submission.model_dump_json()) + SHA256_BYTES_PER_FILE * len(files)
        if size > MAX_EVENT_BYTES - ENVELOPE_BYTES:
            raise ApiError(
                413,
                f"this submission's event would be about {size} bytes, over the "
                f"{MAX_EVENT_BYTES}-byte limit: fewer files, shorter paths or a smaller card",
            )
        await self.ingest._record_pending(submission, key, digest)
        await self._start_files(files)
        inserted = await self.pool.fetchval(
            "INSERT INTO ingest.uploads (upload_id, submitter, metadata, files, state) "
            "VALUES ($1, $2, $3::jsonb, $4::jsonb, 'open') ON CONFLICT (upload_id) DO NOTHING "
            "RETURNING upload_id",
            submission_id,
            submitter,
            meta.model_dump_json(exclude_unset=True),
            json.dumps(files),
        )
        if inserted is None:
            # A concurrent retry under the same key won: its uploads stand, ours go. The keys
            # are the same, so completed (empty) objects are the winner's too: kept.
            await self._abort_files(files, delete_completed=False)
        return await self.describe(submission_id, submitter)

    def _plan(self, request: UploadRequest, prefix: str) -> list[dict[str, Any]]:
        if len(request.files) > self.settings.max_files:
            raise ApiError(413, f"more than {self.settings.max_files} files")
        seen: set[str] = set()
        planned = []
        for item in request.files:
            path = check_file_name(item.path)
            if path in seen:
                raise ApiError(422, f"file {path!r} appears twice")
            seen.add(path)
            if item.size > self.settings.max_file_bytes:
                raise ApiError(
                    413, f"file {path!r} exceeds the {self.settings.max_file_bytes}-byte limit"
                )
            if item.size == 0 and item.sha256 not in (None, EMPTY_SHA256):
                raise ApiError(422, f"file {path!r}: an empty file's SHA-256 is {EMPTY_SHA256}")
            part_size = plan_part_size(item.size, self.settings.part_size)
            planned.append(
                {
                    "path": path,
                    "key": prefix + path,
                    "size": item.size,
                    "sha256": item.sha256,
                    "part_size": part_size,
                    "part_count": part_count(item.size, part_size),
                    "s3_upload_id": None,
                    "completed": False,
                }
            )
        return planned

    async def _start_files(self, files: list[dict[str, Any]]) -> None:
        for item in files:
            if item["size"] == 0:
                # Nothing to send: stored now, and done.
                await self.s3.put_object(
                    Bucket=self.bucket,
                    Key=item["key"],
                    Body=b"",
                    ChecksumSHA256=_b64(EMPTY_SHA256),
                )
                item["sha256"] = EMPTY_SHA256
                item["completed"] = True
                continue
            answer = await self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=item["key"], ChecksumAlgorithm="SHA256"
            )
            item["s3_upload_id"] = answer["UploadId"]

    async def _reopen(self, upload: UploadRow) -> None:
        """An aborted upload asked for again under its key: fresh multipart uploads."""
        for item in upload.files:
            item["completed"] = False
            item["s3_upload_id"] = None
        await self._start_files(upload.files)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE ingest.uploads SET files = $2::jsonb, state = 'open', "
                "last_activity_at = now() WHERE upload_id = $1",
                upload.upload_id,
                json.dumps(upload.files),
            )
            await conn.execute(
                "UPDATE ingest.submissions SET status = 'pending', detail = '', "
                "updated_at = now() WHERE submission_id = $1 AND status = 'abandoned'",
                upload.upload_id,
            )
        upload.state = "open"

    # -- where it is --------------------------------------------------------------------------

    async def describe(self, upload_id: UUID, submitter: str | None) -> UploadOut:
        upload = await self._get(upload_id, submitter)
        submission = await self.ingest.repository.get(upload_id)
        files = []
        for item in upload.files:
            parts: list[PartOut] = []
            if upload.state == "open" and item["s3_upload_id"] and not item["completed"]:
                parts = [
                    PartOut(
                        number=p["PartNumber"], size=p["Size"], sha256=_hex(p.get("ChecksumSHA256"))
                    )
                    for p in await self._list_parts(item)
                ]
            files.append(
                UploadFileOut(
                    path=item["path"],
                    size=item["size"],
                    sha256=item["sha256"],
                    part_size=item["part_size"],
                    part_count=item["part_count"],
                    parts=parts,
                )
            )
        if upload.state == "open":
            await self._touch(upload_id)
        return UploadOut(
            upload_id=upload_id,
            submission_id=upload_id,
            state=upload.state,
            submission_status=submission["status"] if submission else "pending",
            status_url=f"/api/v1/submissions/{upload_id}",
            abandon_after_s=self.settings.upload_abandon_after_s,
            files=files,
        )

    async def _list_parts(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        marker = 0
        while True:
            try:
                answer = await self.s3.list_parts(
                    Bucket=self.bucket,
                    Key=item["key"],
                    UploadId=item["s3_upload_id"],
                    PartNumberMarker=marker,
                )
            except self.s3.exceptions.NoSuchUpload as exc:
                raise ApiError(
                    409, f"file {item['path']!r}: S3 no longer has its multipart upload"
                ) from exc
            parts.extend(answer.get("Parts", []))
            if not answer.get("IsTruncated"):
                return parts
            marker = int(answer["NextPartNumberMarker"])

    # -- presigning ---------------------------------------------------------------------------

    async def part_urls(self, upload_id: UUID, request: PartsRequest, submitter: str) -> PartUrls:
        upload = await self._get(upload_id, submitter)
        if upload.state != "open":
            raise ApiError(409, f"upload {upload_id} is {upload.state}: no more parts")
        out = []
        for part in request.parts:
            item = upload.file(part.path)
            if item["completed"] or not item["s3_upload_id"]:
                raise ApiError(409, f"file {part.path!r} is already complete")
            if part.number > item["part_count"]:
                raise ApiError(
                    422, f"file {part.path!r} has {item['part_count']} part(s), not {part.number}"
                )
            checksum = _b64(part.sha256)
            url = await self.s3.generate_presigned_url(
                "upload_part",
                Params={
                    "Bucket": self.bucket,
                    "Key": item["key"],
                    "UploadId": item["s3_upload_id"],
                    "PartNumber": part.number,
                    "ChecksumSHA256": checksum,
                },
                ExpiresIn=self.settings.upload_url_ttl_s,
            )
            out.append(
                PartUrl(
                    path=part.path,
                    number=part.number,
                    size=part_length(item["size"], item["part_size"], part.number),
                    url=url,
                    headers={"x-amz-checksum-sha256": checksum},
                )
            )
        await self._touch(upload_id)
        return PartUrls(expires_in=self.settings.upload_url_ttl_s, parts=out)

    # -- completing ---------------------------------------------------------------------------

    async def complete(self, upload_id: UUID, request: CompleteRequest, submitter: str) -> Accepted:
        upload = await self._get(upload_id, submitter)
        if upload.state == "aborted":
            raise ApiError(409, f"upload {upload_id} was aborted; make it again to resume")
        declared = {}
        for given in request.files:
            item = upload.file(given.path)
            if item["sha256"] is not None and item["sha256"] != given.sha256:
                raise ApiError(
                    422,
                    f"file {given.path!r}: SHA-256 {given.sha256} differs from the "
                    f"{item['sha256']} declared when the upload was made",
                )
            declared[given.path] = given.sha256
        if upload.state == "completed":
            row = await self.ingest.repository.get(upload_id)
            assert row is not None
            if row["status"] != SubmissionStatus.PENDING:
                return Accepted(upload_id, SubmissionStatus(row["status"]), row["event_id"])
        missing = [f["path"] for f in upload.files if not (f["sha256"] or declared.get(f["path"]))]
        if missing:
            raise ApiError(422, f"no SHA-256 for {', '.join(map(repr, missing[:5]))}")
        for item in upload.files:
            item["sha256"] = item["sha256"] or declared[item["path"]]
            if not item["completed"]:
                await self._complete_file(item)
                item["completed"] = True
                await self._save_files(upload)
        meta = SubmissionMetadata.model_validate(upload.metadata)
        prefix = f"{self.settings.staging_prefix}/{upload_id}/"
        submission = build_submitted(
            upload_id,
            meta,
            submitter,
            self.ingest.store.uri(prefix),
            [
                ArtifactFile(
                    path=f["path"],
                    uri=self.ingest.store.uri(f["key"]),
                    sha256=f["sha256"],
                    size=f["size"],
                )
                for f in upload.files
            ],
        )
        claimed = await self.pool.fetchval(
            "UPDATE ingest.uploads SET state = 'completed', files = $2::jsonb, "
            "last_activity_at = now() WHERE upload_id = $1 AND state <> 'aborted' "
            "RETURNING upload_id",
            upload_id,
            json.dumps(upload.files),
        )
        if claimed is None:  # aborted meanwhile (DELETE, or the sweeper): nothing to publish
            raise ApiError(409, f"upload {upload_id} was aborted; make it again to resume")
        # The same publication as a streamed upload's: a retry republishes the same event id.
        return await self.ingest._publish(submission)

    async def _complete_file(self, item: dict[str, Any]) -> None:
        parts = {p["PartNumber"]: p for p in await self._list_parts(item)}
        expected = range(1, item["part_count"] + 1)
        absent = [n for n in expected if n not in parts]
        if absent:
            shown = ", ".join(map(str, absent[:10])) + (" …" if len(absent) > 10 else "")
            raise ApiError(
                409,
                f"file {item['path']!r}: {len(absent)} of {item['part_count']} part(s) not "
                f"uploaded yet ({shown})",
            )
        extra = sorted(set(parts) - set(expected))
        if extra:
            raise ApiError(409, f"file {item['path']!r}: unexpected part(s) {extra[:10]}")
        for number in expected:
            want = part_length(item["size"], item["part_size"], number)
            if parts[number]["Size"] != want or not parts[number].get("ChecksumSHA256"):
                raise ApiError(
                    409,
                    f"file {item['path']!r}: part {number} holds {parts[number]['Size']} "
                    f"bytes, not {want} (upload it again)",
                )
        try:
            await self._complete_parts(item, parts, expected)
        except self.s3.exceptions.NoSuchUpload:
            # Completed by an earlier try whose answer (or its saved state) was lost: the
            # object is there with the planned size, or the upload was aborted.
            if await self._completed_size(item) != item["size"]:
                raise ApiError(
                    409, f"file {item['path']!r}: S3 no longer has its multipart upload"
                ) from None
        except ClientError as exc:
            raise ApiError(
                409,
                f"file {item['path']!r}: S3 refused to complete it: "
                f"{exc.response.get('Error', {}).get('Code', 'error')}",
            ) from exc

    async def _completed_size(self, item: dict[str, Any]) -> int | None:
        try:
            head = await self.s3.head_object(Bucket=self.bucket, Key=item["key"])
        except ClientError:
            return None
        return int(head["ContentLength"])

    async def _complete_parts(
        self, item: dict[str, Any], parts: dict[int, dict[str, Any]], expected: range
    ) -> None:
        await self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key=item["key"],
            UploadId=item["s3_upload_id"],
            MultipartUpload={
                "Parts": [
                    {
                        "PartNumber": n,
                        "ETag": parts[n]["ETag"],
                        "ChecksumSHA256": parts[n]["ChecksumSHA256"],
                    }
                    for n in expected
                ]
            },
        )

    # -- aborting -----------------------------------------------------------------------------

    async def abort(self, upload_id: UUID, submitter: str | None, reason: str) -> None:
        upload = await self._get(upload_id, submitter)
        if upload.state == "completed":
            raise ApiError(409, f"upload {upload_id} is completed: its submission stands")
        if upload.state == "aborted":
            return
        await self._abort_files(upload.files)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE ingest.uploads SET state = 'aborted', last_activity_at = now() "
                "WHERE upload_id = $1 AND state = 'open'",
                upload_id,
            )
            await conn.execute(
                "UPDATE ingest.submissions SET status = 'abandoned', detail = $2, "
                "updated_at = now() WHERE submission_id = $1 AND status = 'pending'",
                upload_id,
                reason,
            )

    async def _abort_files(
        self, files: list[dict[str, Any]], *, delete_completed: bool = True
    ) -> None:
        done = [item["key"] for item in files if item["completed"]]
        if done and delete_completed:
            # Every completed object, not only the empty ones: a complete that failed on a
            # later file leaves earlier files completed, which nothing else would remove.
            await self.ingest.store.delete(done)
        for item in files:
            if item["completed"]:
                continue
            if not item["s3_upload_id"]:
                continue
            with contextlib.suppress(self.s3.exceptions.NoSuchUpload):
                await self.s3.abort_multipart_upload(
                    Bucket=self.bucket, Key=item["key"], UploadId=item["s3_upload_id"]
                )

    async def sweep(self) -> int:
        """Abort every open upload idle for longer than the setting; answers how many."""
        rows = await self.pool.fetch(
            "SELECT upload_id FROM ingest.uploads WHERE state = 'open' "
            "AND last_activity_at < now() - make_interval(secs => $1) LIMIT 100",
            self.settings.upload_abandon_after_s,
        )
        for row in rows:
            await self.abort(
                row["upload_id"],
                None,
                f"abandoned: no request for {self.settings.upload_abandon_after_s:g} s",
            )
            log.info("aborted abandoned upload %s", row["upload_id"])
        return len(rows)

    async def sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("sweeping abandoned uploads failed; trying again later", exc_info=True)
            await asyncio.sleep(self.settings.upload_sweep_interval_s)
