"""HTTP API of ingest: submit (upload or reference) and ask where a submission is."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect

from modelgate_ingest.service import Accepted, IngestService
from modelgate_ingest.submissions import ReferenceSubmission, SubmissionMetadata
from modelgate_shared.auth import Permission, Principal, require
from modelgate_shared.errors import ApiError, ErrorBody, error_response
from modelgate_shared.telemetry import current_trace_headers, current_trace_id
from modelgate_shared.telemetry.metrics import STAGE_DURATION, exemplar

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/submissions", tags=["submissions"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 413, 415, 422, 503)
}


async def _service(request: Request) -> IngestService:
    service: IngestService = request.app.state.ingest
    return service


Service = Annotated[IngestService, Depends(_service)]

SUBMISSIONS = Counter(
    "modelgate_submissions_received_total",
    "Submissions received over HTTP, by kind (upload, reference) and outcome (accepted, "
    "refused: the client's error, failed: ours, abandoned: the client went away)",
    ["kind", "outcome"],
)


class SubmissionAccepted(BaseModel):
    submission_id: UUID
    status: str
    status_url: str
    event_id: UUID | None
    trace_id: str | None = None
    """The trace that follows this submission through every service (when tracing is on):
    look it up in Grafana (Tempo) or the local trace backend."""


class SubmissionState(BaseModel):
    submission_id: UUID
    name: str
    version: str
    submitter: str
    status: str
    """pending, validating, pending_review (passed validation, waits for an approver),
    registered or rejected."""
    verdict: str | None
    failed_checks: list[dict[str, Any]]
    checks: list[dict[str, Any]]
    detail: str
    artifact_uri: str | None
    model_id: int | None
    version_id: int | None
    created_at: datetime
    updated_at: datetime


def _accepted(result: Accepted) -> JSONResponse:
    body = SubmissionAccepted(
        submission_id=result.submission_id,
        status=result.status.value,
        status_url=f"/api/v1/submissions/{result.submission_id}",
        event_id=result.event_id,
        trace_id=current_trace_id(),
    )
    headers = {"Location": body.status_url, **current_trace_headers()}
    if body.trace_id:
        headers["X-Trace-Id"] = body.trace_id
    return JSONResponse(body.model_dump(mode="json"), status_code=202, headers=headers)


_UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["metadata", "file"],
                    "properties": {
                        "metadata": SubmissionMetadata.model_json_schema(),
                        "file": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "One part per file; its filename is the path inside "
                            "the artifact (e.g. `model.safetensors`, `tokenizer/vocab.json`).",
                        },
                    },
                },
                "encoding": {"metadata": {"contentType": "application/json"}},
            },
            "application/json": {"schema": ReferenceSubmission.model_json_schema()},
        },
    }
}


@router.post(
    "",
    status_code=202,
    response_model=SubmissionAccepted,
    responses=_ERRORS,
    openapi_extra=_UPLOAD_DOC,
)
async def submit(
    request: Request,
    service: Service,
    principal: Annotated[Principal, Depends(require(Permission.MODEL_SUBMIT))],
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> JSONResponse:
    """Submit a model: a multipart upload (a `metadata` JSON part first, then one `file` part
    per file), or a JSON body referencing objects already in S3. Answers 202 once the files
    are stored and `model.submitted` is in Kafka. With tracing on, the answer names the
    submission's trace (`trace_id`, and the `X-Trace-Id` and `traceparent` headers)."""
    content_type = request.headers.get("content-type", "")
    kind = "reference" if content_type.startswith("application/json") else "upload"
    began = time.perf_counter()
    try:
        result = await _accept(request, service, principal, idempotency_key, content_type)
    except ApiError as exc:
        SUBMISSIONS.labels(kind, "refused" if exc.status < 500 else "failed").inc()
        raise
    except ClientDisconnect:
        # Expected on any network: a warning with what was lost, not a crash with a traceback.
        SUBMISSIONS.labels(kind, "abandoned").inc()
        log.warning(
            "%s went away during a %s submission (Idempotency-Key %r, %s bytes declared, "
            "%.1f s in): nothing was published, and a retry with the same key starts over",
            principal.subject,
            kind,
            idempotency_key,
            request.headers.get("content-length", "unknown"),
            time.perf_counter() - began,
        )
        return error_response(400, "the client disconnected before the request was read")
    except Exception:
        SUBMISSIONS.labels(kind, "failed").inc()
        raise
    SUBMISSIONS.labels(kind, "accepted").inc()
    STAGE_DURATION.labels("ingest.accept").observe(time.perf_counter() - began, exemplar())
    return _accepted(result)


async def _accept(
    request: Request,
    service: IngestService,
    principal: Principal,
    idempotency_key: str | None,
    content_type: str,
) -> Accepted:
    if content_type.startswith("application/json"):
        try:
            ref = ReferenceSubmission.model_validate_json(await request.body())
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ApiError(422, f"invalid reference submission: {where}: {first['msg']}") from exc
        return await service.accept_reference(ref, principal.subject, idempotency_key)
    return await service.accept_upload(
        request.stream(), content_type, principal.subject, idempotency_key
    )


@router.get("/{submission_id}", response_model=SubmissionState, responses=_ERRORS)
async def get_submission(
    submission_id: UUID,
    service: Service,
    _: Annotated[Principal, Depends(require(Permission.SUBMISSION_READ))],
) -> SubmissionState:
    """Where the submission is: pending, validating, pending_review, registered, or rejected
    with the checks that failed."""
    row = await service.status(submission_id)
    checks = row["checks"] or []
    return SubmissionState(
        **{k: v for k, v in row.items() if k in SubmissionState.model_fields},
        failed_checks=[c for c in checks if c.get("status") == "failed"],
    )
