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

Beside it: the API's bodies (`upload_bodies.py`), the part arithmetic (`upload_parts.py`),
the table (`upload_table.py`) and the S3 calls (`upload_s3.py`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from uuid import UUID

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
from modelgate_ingest.upload_bodies import (
    CompleteRequest,
    PartOut,
    PartsRequest,
    PartUrl,
    PartUrls,
    UploadFileOut,
    UploadOut,
    UploadRequest,
)
from modelgate_ingest.upload_parts import (
    EMPTY_SHA256,
    checksum_b64,
    checksum_hex,
    part_count,
    part_length,
    plan_part_size,
)
from modelgate_ingest.upload_s3 import MultipartFiles
from modelgate_ingest.upload_table import UploadRow, UploadTable
from modelgate_shared.errors import ApiError
from modelgate_shared.events import ArtifactFile
from modelgate_shared.events.codec import MAX_EVENT_BYTES

log = logging.getLogger(__name__)

SHA256_BYTES_PER_FILE = 90
"""What completing adds to each file of the event: `"sha256": "<64 hex>",` and a margin."""
ENVELOPE_BYTES = 2048
"""The CloudEvent envelope around the submission (ids, type, source, subject, time)."""


class UploadService:
    def __init__(self, ingest: IngestService) -> None:
        self.ingest = ingest
        self.settings = ingest.settings
        self.table = UploadTable(ingest.repository.pool)
        self.files = MultipartFiles(ingest.store)

    async def _get(self, upload_id: UUID, submitter: str | None) -> UploadRow:
        upload = await self.table.get(upload_id)
        # Someone else's upload is not there for this principal: 404, never 403 (no probing).
        if upload is None or (submitter is not None and upload.submitter != submitter):
            raise ApiError(404, f"no upload {upload_id}")
        return upload

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
        await self.files.start(files)
        metadata = meta.model_dump_json(exclude_unset=True)
        if not await self.table.insert(submission_id, submitter, metadata, files):
            # A concurrent retry under the same key won: its uploads stand, ours go. The keys
            # are the same, so completed (empty) objects are the winner's too: kept.
            await self.files.abort(files, delete_completed=False)
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

    async def _reopen(self, upload: UploadRow) -> None:
        """An aborted upload asked for again under its key: fresh multipart uploads."""
        for item in upload.files:
            item["completed"] = False
            item["s3_upload_id"] = None
        await self.files.start(upload.files)
        await self.table.reopen(upload)
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
                        number=p["PartNumber"],
                        size=p["Size"],
                        sha256=checksum_hex(p.get("ChecksumSHA256")),
                    )
                    for p in await self.files.parts(item)
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
            await self.table.touch(upload_id)
        return UploadOut(
            upload_id=upload_id,
            submission_id=upload_id,
            state=upload.state,
            submission_status=submission["status"] if submission else "pending",
            status_url=f"/api/v1/submissions/{upload_id}",
            abandon_after_s=self.settings.upload_abandon_after_s,
            files=files,
        )

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
            checksum = checksum_b64(part.sha256)
            url = await self.files.part_url(
                item, part.number, checksum, self.settings.upload_url_ttl_s
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
        await self.table.touch(upload_id)
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
                await self.files.complete(item)
                item["completed"] = True
                await self.table.save_files(upload)
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
        if not await self.table.claim_completed(
            upload
        ):  # aborted meanwhile (DELETE, or the sweeper): nothing to publish
            raise ApiError(409, f"upload {upload_id} was aborted; make it again to resume")
        # The same publication as a streamed upload's: a retry republishes the same event id.
        return await self.ingest._publish(submission)

    # -- aborting -----------------------------------------------------------------------------

    async def abort(self, upload_id: UUID, submitter: str | None, reason: str) -> None:
        upload = await self._get(upload_id, submitter)
        if upload.state == "completed":
            raise ApiError(409, f"upload {upload_id} is completed: its submission stands")
        if upload.state == "aborted":
            return
        await self.files.abort(upload.files)
        await self.table.mark_aborted(upload_id, reason)

    async def sweep(self) -> int:
        """Abort every open upload idle for longer than the setting; answers how many."""
        idle = await self.table.idle(self.settings.upload_abandon_after_s)
        for upload_id in idle:
            await self.abort(
                upload_id,
                None,
                f"abandoned: no request for {self.settings.upload_abandon_after_s:g} s",
            )
            log.info("aborted abandoned upload %s", upload_id)
        return len(idle)

    async def sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("sweeping abandoned uploads failed; trying again later", exc_info=True)
            await asyncio.sleep(self.settings.upload_sweep_interval_s)
