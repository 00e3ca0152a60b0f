"""HTTP API of presigned multipart uploads (see `uploads.py`): the bytes bypass ingest."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse

from modelgate_ingest.routes import SUBMISSIONS, SubmissionAccepted, _accepted
from modelgate_ingest.upload_bodies import (
    CompleteRequest,
    PartsRequest,
    PartUrls,
    UploadOut,
    UploadRequest,
)
from modelgate_ingest.uploads import UploadService
from modelgate_shared.auth import Permission, Principal, require
from modelgate_shared.errors import ApiError, ErrorBody

router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 413, 415, 422, 503)
}


async def _uploads(request: Request) -> UploadService:
    service: UploadService = request.app.state.uploads
    return service


Uploads = Annotated[UploadService, Depends(_uploads)]
Submitter = Annotated[Principal, Depends(require(Permission.MODEL_SUBMIT))]


@router.post("", status_code=201, response_model=UploadOut, responses=_ERRORS)
async def create_upload(
    body: UploadRequest,
    uploads: Uploads,
    principal: Submitter,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> UploadOut:
    """Make a pending submission whose files the client uploads straight to S3: the metadata
    (as for a streamed upload) and each file's path, size and optionally SHA-256. Answers each
    file's part size and count, and the parts S3 already holds: with the same Idempotency-Key
    a retry gets the same upload back, which is how an interrupted client resumes (an aborted
    one is reopened)."""
    try:
        return await uploads.create(body, principal.subject, idempotency_key)
    except ApiError as exc:
        SUBMISSIONS.labels("presigned", "refused" if exc.status < 500 else "failed").inc()
        raise


@router.get("/{upload_id}", response_model=UploadOut, responses=_ERRORS)
async def get_upload(upload_id: UUID, uploads: Uploads, principal: Submitter) -> UploadOut:
    """The upload's state and, while it is open, the parts S3 already holds (with the
    SHA-256 S3 verified for each): what a resuming client need not send again."""
    return await uploads.describe(upload_id, principal.subject)


@router.post("/{upload_id}/parts", response_model=PartUrls, responses=_ERRORS)
async def part_urls(
    upload_id: UUID, body: PartsRequest, uploads: Uploads, principal: Submitter
) -> PartUrls:
    """Presigned `PUT` URLs for up to 100 parts, each bound to the part's SHA-256: send the
    answered `headers` (`x-amz-checksum-sha256`) with exactly the part's bytes, or S3 refuses
    it. A part sent again replaces the earlier one."""
    return await uploads.part_urls(upload_id, body, principal.subject)


@router.post(
    "/{upload_id}/complete",
    status_code=202,
    response_model=SubmissionAccepted,
    responses=_ERRORS,
)
async def complete_upload(
    upload_id: UUID, body: CompleteRequest, uploads: Uploads, principal: Submitter
) -> JSONResponse:
    """Check every part is in S3 with its planned size, complete each file, and publish
    `model.submitted` (with the whole-file SHA-256s, declared here or when the upload was
    made; the validator recomputes them). Answers as a streamed submission does; a retry
    gets the same answer."""
    try:
        result = await uploads.complete(upload_id, body, principal.subject)
    except ApiError as exc:
        SUBMISSIONS.labels("presigned", "refused" if exc.status < 500 else "failed").inc()
        raise
    SUBMISSIONS.labels("presigned", "accepted").inc()
    return _accepted(result)


@router.delete("/{upload_id}", status_code=204, responses=_ERRORS)
async def abort_upload(upload_id: UUID, uploads: Uploads, principal: Submitter) -> Response:
    """Abort the upload: S3 drops its parts, the submission becomes `abandoned`."""
    await uploads.abort(upload_id, principal.subject, "aborted by the submitter")
    return Response(status_code=204)
