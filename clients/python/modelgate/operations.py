"""Every client method, written once as an operation (see `steps.py` for how they run)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from modelgate.audit_export import AuditExport
from modelgate.download import target_of
from modelgate.errors import (
    Forbidden,
    GateRejected,
    ModelgateError,
    NoPreviousProduction,
    NotFound,
    Unreachable,
    WaitTimeout,
)
from modelgate.models import (
    AliasRequest,
    ApiKey,
    ApiKeyCreated,
    ApiKeyRequest,
    AuditEntryPage,
    Checkpoint,
    Deployment,
    DeploymentRequest,
    DownloadPlan,
    ExportPage,
    Lineage,
    Model,
    ModelCard,
    ModelDetail,
    Page,
    ReasonRequest,
    ReviewItem,
    ReviewRequest,
    ServerVerifyReport,
    Submission,
    SubmissionAccepted,
    SubmissionMetadata,
    TransitionRequest,
    Version,
    VersionDetail,
)
from modelgate.progress import Progress
from modelgate.steps import Call, Fetch, Op, Pause
from modelgate.upload import LocalFile, UploadTransport, collect, idempotency_key

DOWNLOAD_ATTEMPTS = 3
# Forward through the lifecycle; canary is a stop only when asked for (see `promote`).
FORWARD = ("development", "staging", "canary", "production")


def _q(segment: str) -> str:
    return quote(segment, safe="")


def _version_path(name: str, version: str) -> str:
    return f"/api/v1/models/{_q(name)}/versions/{_q(version)}"


def _clean(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Query parameters without the unset ones; lists repeat their key."""
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        out += [(key, str(v).lower() if isinstance(v, bool) else str(v)) for v in values]
    return out


# -- submitting --------------------------------------------------------------------------------


def build_metadata(
    name: str,
    version: str,
    *,
    card: ModelCard | Mapping[str, Any] | None,
    lineage: Lineage | Mapping[str, Any] | None,
    labels: Mapping[str, str] | None = None,
    hardware_profile: str | None = None,
) -> SubmissionMetadata:
    """The submission's metadata; lineage lands where the registry keeps it (the source, and
    the card's training data version and code commit)."""
    model_card = card if isinstance(card, ModelCard) else ModelCard.model_validate(card or {})
    line = lineage if isinstance(lineage, Lineage) else Lineage.model_validate(lineage or {})
    updates = {
        k: v
        for k, v in (
            ("training_data_version", line.training_data_version),
            ("code_commit", line.code_commit),
        )
        if v
    }
    return SubmissionMetadata(
        name=name,
        version=version,
        model_card=model_card.model_copy(update=updates),
        labels=dict(labels or {}),
        source=line.source,
        hardware_profile=hardware_profile,
    )


def submit(
    meta: SubmissionMetadata,
    path: Path,
    transport: UploadTransport,
    progress: Progress | None = None,
    key: str | None = None,
) -> Op[SubmissionAccepted]:
    files: list[LocalFile] = collect(path)
    accepted = yield from transport.submit(
        meta, files, key or idempotency_key(meta, files), progress
    )
    return accepted


def submission(submission_id: str) -> Op[Submission]:
    answer = yield Call("ingest", "GET", f"/api/v1/submissions/{_q(submission_id)}")
    return Submission.model_validate(answer)


def wait(
    submission_id: str,
    *,
    timeout_s: float | None = 600.0,
    interval_s: float = 1.0,
    raise_on_reject: bool = True,
    on_change: Any = None,
    through_review: bool = False,
) -> Op[Submission]:
    """Poll until the gate decided (`through_review`: until an approver decided too); a
    rejection raises `GateRejected` with the failed checks or the reviewer's reason."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    last: Submission | None = None
    while True:
        state = yield from submission(submission_id)
        if on_change is not None and (last is None or state.status != last.status):
            on_change(state)
        last = state
        if state.final or (state.decided and not through_review):
            if state.status == "rejected" and raise_on_reject:
                raise GateRejected(state)
            return state
        if deadline is not None and time.monotonic() >= deadline:
            raise WaitTimeout(
                f"submission {submission_id} still {state.status} after {timeout_s:g}s", state
            )
        yield Pause(interval_s)


def register_model(
    meta: SubmissionMetadata,
    path: Path,
    transport: UploadTransport,
    *,
    wait_for_gate: bool,
    timeout_s: float | None,
    progress: Progress | None,
    key: str | None = None,
) -> Op[Submission]:
    accepted = yield from submit(meta, path, transport, progress, key)
    if not wait_for_gate:
        return (yield from submission(accepted.submission_id))
    return (yield from wait(accepted.submission_id, timeout_s=timeout_s))


# -- reading the catalog -----------------------------------------------------------------------


def registered_model(name: str) -> Op[ModelDetail]:
    answer = yield Call("registry", "GET", f"/api/v1/models/{_q(name)}")
    return ModelDetail.model_validate(answer)


def version_detail(name: str, version: str) -> Op[VersionDetail]:
    answer = yield Call("registry", "GET", _version_path(name, version))
    return VersionDetail.model_validate(answer)


def get_model(
    name: str, version: str | None = None, alias: str | None = None, stage: str | None = None
) -> Op[VersionDetail]:
    """One version of a model: by number, by alias, by stage (the newest there), or with none
    of them the newest registered version."""
    if sum(x is not None for x in (version, alias, stage)) > 1:
        raise ModelgateError("give at most one of version, alias and stage")
    if version is None and alias is not None:
        model = yield from registered_model(name)
        found = [a.version for a in model.aliases if a.alias == alias]
        if not found:
            raise NotFound(404, f"model {name!r} has no alias {alias!r}")
        version = found[0]
    elif version is None:
        page = yield from search_versions(model=name, stage=stage, limit=1)
        if not page.items:
            where = f" in stage {stage!r}" if stage else ""
            raise NotFound(404, f"model {name!r} has no registered version{where}")
        version = page.items[0].version
    return (yield from version_detail(name, version))


def me() -> Op[dict[str, Any]]:
    """The subject, roles and permissions the registry sees in the token."""
    answer = yield Call("registry", "GET", "/api/v1/me")
    return dict(answer)


def search_models(**filters: Any) -> Op[Page[Model]]:
    answer = yield Call("registry", "GET", "/api/v1/models", params=_clean(filters))
    return Page[Model].model_validate(answer)


def search_versions(**filters: Any) -> Op[Page[Version]]:
    answer = yield Call("registry", "GET", "/api/v1/versions", params=_clean(filters))
    return Page[Version].model_validate(answer)


def list_models(**filters: Any) -> Op[list[Model]]:
    """Every page of `search_models`."""
    found: list[Model] = []
    cursor = None
    while True:
        page = yield from search_models(**filters, cursor=cursor)
        found += page.items
        if not page.next_cursor:
            return found
        cursor = page.next_cursor


def list_versions(name: str, status: list[str] | None = None) -> Op[list[Version]]:
    """Every version of one model (registered ones, unless `status` says otherwise)."""
    found: list[Version] = []
    cursor = None
    while True:
        answer = yield Call(
            "registry",
            "GET",
            f"/api/v1/models/{_q(name)}/versions",
            params=_clean({"status": status, "cursor": cursor, "limit": 500}),
        )
        page = Page[Version].model_validate(answer)
        found += page.items
        if not page.next_cursor:
            return found
        cursor = page.next_cursor


# -- lifecycle ---------------------------------------------------------------------------------


def transition(name: str, version: str, to_stage: str, reason: str) -> Op[Version]:
    body = TransitionRequest(to_stage=to_stage, reason=reason)
    answer = yield Call(
        "registry", "POST", f"{_version_path(name, version)}/transitions", json=body.model_dump()
    )
    return Version.model_validate(answer)


def stage_path(current: str, target: str) -> list[str]:
    """The stages a promotion walks through: forward from `current` to `target`, passing
    canary only when it is the target or where the version is. A deprecated version goes
    straight back (the registry allows deprecated → staging or production)."""
    if current == target:
        return []
    if current == "deprecated" or target not in FORWARD or current not in FORWARD:
        return [target]
    start, end = FORWARD.index(current), FORWARD.index(target)
    if end < start:
        return [target]
    return [s for s in FORWARD[start + 1 : end + 1] if s != "canary" or s == target]


def promote(name: str, version: str, reason: str, to_stage: str = "production") -> Op[Version]:
    """Move a version forward to `to_stage` in one call, one transition per stage on the way
    (development → staging → production). Production needs an admin who did not submit it."""
    current = yield from version_detail(name, version)
    moved: Version = current
    for stage in stage_path(current.stage or "development", to_stage):
        moved = yield from transition(name, version, stage, reason)
    return moved


def rollback(name: str, reason: str) -> Op[Version]:
    """Production goes back to the version that held it before the current one: the version
    that most recently left production for deprecated is promoted again, and the registry
    deprecates the current one and moves the `production` alias with it."""
    retired = yield from search_versions(model=name, stage="deprecated", limit=500)
    best: tuple[Any, str] | None = None
    for candidate in retired.items:
        detail = yield from version_detail(name, candidate.version)
        for t in detail.transitions:
            left_production = (
                t.kind == "stage" and t.from_value == "production" and t.to_value == "deprecated"
            )
            if left_production and (best is None or t.at > best[0]):
                best = (t.at, candidate.version)
    if best is None:
        raise NoPreviousProduction(f"model {name!r} has no earlier production version")
    return (yield from transition(name, best[1], "production", f"rollback: {reason}"))


def review_queue(limit: int = 50, cursor: str | None = None) -> Op[Page[ReviewItem]]:
    answer = yield Call(
        "registry", "GET", "/api/v1/review-queue", params=_clean({"limit": limit, "cursor": cursor})
    )
    return Page[ReviewItem].model_validate(answer)


def review(name: str, version: str, decision: str, reason: str) -> Op[Version]:
    """Approve (`approve`) a version waiting for review into the catalog, or reject it for
    good (`reject`). The approver must not have submitted or uploaded it (four-eyes)."""
    body = ReviewRequest(decision=decision, reason=reason)
    answer = yield Call(
        "registry", "POST", f"{_version_path(name, version)}/review", json=body.model_dump()
    )
    return Version.model_validate(answer)


def create_api_key(
    name: str, owner: str, roles: list[str], expires_in_days: int = 90
) -> Op[ApiKeyCreated]:
    """A key for a machine acting as `owner` with `roles` (admins); the answer holds the key,
    which cannot be shown again."""
    body = ApiKeyRequest(name=name, owner=owner, roles=roles, expires_in_days=expires_in_days)
    answer = yield Call("registry", "POST", "/api/v1/api-keys", json=body.model_dump())
    return ApiKeyCreated.model_validate(answer)


def list_api_keys(
    owner: str | None = None, *, include_revoked: bool = False, limit: int = 200
) -> Op[list[ApiKey]]:
    params = _clean(
        {"owner": owner, "include_revoked": "true" if include_revoked else None, "limit": limit}
    )
    answer = yield Call("registry", "GET", "/api/v1/api-keys", params=params)
    return [ApiKey.model_validate(k) for k in answer]


def revoke_api_key(key_id: str, reason: str) -> Op[ApiKey]:
    """Revoke a key: every service refuses it from the next request on."""
    body = ReasonRequest(reason=reason)
    answer = yield Call(
        "registry", "POST", f"/api/v1/api-keys/{_q(key_id)}/revoke", json=body.model_dump()
    )
    return ApiKey.model_validate(answer)


def set_alias(name: str, alias: str, version: str, reason: str = "") -> Op[Version]:
    body = AliasRequest(version=version, reason=reason)
    answer = yield Call(
        "registry", "PUT", f"/api/v1/models/{_q(name)}/aliases/{_q(alias)}", json=body.model_dump()
    )
    return Version.model_validate(answer)


def delete_alias(name: str, alias: str, reason: str = "") -> Op[None]:
    yield Call(
        "registry",
        "DELETE",
        f"/api/v1/models/{_q(name)}/aliases/{_q(alias)}",
        params=_clean({"reason": reason or None}),
    )


def archive_version(name: str, version: str, reason: str, *, restore: bool = False) -> Op[Version]:
    action = "restore" if restore else "archive"
    body = ReasonRequest(reason=reason).model_dump()
    answer = yield Call("registry", "POST", f"{_version_path(name, version)}/{action}", json=body)
    return Version.model_validate(answer)


def archive_model(name: str, reason: str, *, restore: bool = False) -> Op[Model]:
    action = "restore" if restore else "archive"
    body = ReasonRequest(reason=reason).model_dump()
    answer = yield Call("registry", "POST", f"/api/v1/models/{_q(name)}/{action}", json=body)
    return Model.model_validate(answer)


def record_deployment(name: str, version: str, environment: str, note: str = "") -> Op[Deployment]:
    body = DeploymentRequest(environment=environment, note=note).model_dump()
    answer = yield Call(
        "registry", "POST", f"{_version_path(name, version)}/deployments", json=body
    )
    return Deployment.model_validate(answer)


def deployments(name: str) -> Op[list[Deployment]]:
    answer = yield Call("registry", "GET", f"/api/v1/models/{_q(name)}/deployments")
    return [Deployment.model_validate(d) for d in answer]


# -- downloading -------------------------------------------------------------------------------


def download(
    name: str, version: str, dest: Path, progress: Progress | None = None
) -> Op[list[Path]]:
    """Every file of a registered version under `dest`, each SHA-256 checked, partial files
    resumed. Presigned URLs live five minutes: when one has expired (S3 answers 403) or the
    connection broke, fresh URLs are asked for and the file resumes from what arrived."""
    plan_path = f"{_version_path(name, version)}/download"
    plan = DownloadPlan.model_validate((yield Call("registry", "GET", plan_path)))
    # The gate's signature (modelgate.sig) travels with the files: `modelgate verify` checks it.
    entries = [*plan.files, *([plan.signature] if plan.signature else [])]
    targets = [target_of(dest, f) for f in entries]
    if progress:
        progress.begin([(f.path, f.size) for f in entries])
    for index, target in enumerate(targets):
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            try:
                yield Fetch(entries[index], target, progress)
                break
            except (Forbidden, Unreachable):
                if attempt == DOWNLOAD_ATTEMPTS:
                    raise
            fresh = DownloadPlan.model_validate((yield Call("registry", "GET", plan_path)))
            fresh_entries = [*fresh.files, *([fresh.signature] if fresh.signature else [])]
            if [f.path for f in fresh_entries] != [f.path for f in entries]:
                raise ModelgateError(f"{name} {version}: its files changed during the download")
            entries = fresh_entries
    return targets


def signing_key() -> Op[str]:
    """The gate's public key (PEM) its `modelgate.sig` signatures verify with."""
    answer = yield Call("registry", "GET", "/api/v1/signing-key", text=True)
    return str(answer)


# -- audit -------------------------------------------------------------------------------------


def audit_entries(**filters: Any) -> Op[AuditEntryPage]:
    if "event_type" in filters:
        filters["type"] = filters.pop("event_type")
    answer = yield Call("audit", "GET", "/api/v1/audit/entries", params=_clean(filters))
    return AuditEntryPage.model_validate(answer)


def server_verify(start: str = "genesis") -> Op[ServerVerifyReport]:
    answer = yield Call("audit", "GET", "/api/v1/audit/verify", params={"from": start})
    return ServerVerifyReport.model_validate(answer)


def public_key() -> Op[str]:
    answer = yield Call("audit", "GET", "/api/v1/audit/public-key", text=True)
    return str(answer)


def checkpoints() -> Op[list[Checkpoint]]:
    answer = yield Call("audit", "GET", "/api/v1/audit/checkpoints")
    return [Checkpoint.model_validate(c) for c in answer]


def export_audit() -> Op[AuditExport]:
    """The whole chain with its checkpoints and public key. Checkpoints are read first, so
    none can name an entry appended after the export was read."""
    key = yield from public_key()
    signed = yield from checkpoints()
    exported = AuditExport(public_key=key, checkpoints=signed)
    cursor = 0
    while True:
        answer = yield Call(
            "audit", "GET", "/api/v1/audit/export", params={"cursor": str(cursor), "limit": "1000"}
        )
        page = ExportPage.model_validate(answer)
        exported.entries += page.items
        if page.next_cursor is None:
            return exported
        cursor = page.next_cursor
