"""The synchronous client: `Client(...).register_model(...)`.

Every method runs an operation from `operations.py`; this module only performs its steps with
httpx's synchronous client. `aio.AsyncClient` is the same with `await`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx

from modelgate import operations as ops
from modelgate.audit_chain import ChainReport, load_public_key, verify_chain
from modelgate.audit_export import AuditExport
from modelgate.config import Settings, resolve
from modelgate.download import PartialFile
from modelgate.http import (
    TRANSFER_TIMEOUT,
    decode,
    headers,
    raise_for,
    request_args,
    unreachable,
    url_of,
)
from modelgate.models import (
    ApiKey,
    ApiKeyCreated,
    AuditEntryPage,
    Deployment,
    Lineage,
    Model,
    ModelCard,
    ModelDetail,
    Page,
    ReviewItem,
    ServerVerifyReport,
    Submission,
    Version,
    VersionDetail,
)
from modelgate.presigned import PresignedUpload, run_sync
from modelgate.progress import Progress
from modelgate.steps import Call, Fetch, Op, Pause, PutParts, Send, Step
from modelgate.upload import FormUpload, UploadTransport

T = TypeVar("T")


class Client:
    """Modelgate's registry, ingest and audit services, configured from the arguments, the
    environment (`MODELGATE_URL`, `MODELGATE_INGEST_URL`, `MODELGATE_AUDIT_URL`,
    `MODELGATE_TOKEN`) or a profile of `~/.config/modelgate/config.toml`."""

    def __init__(
        self,
        url: str | None = None,
        *,
        token: str | None = None,
        ingest_url: str | None = None,
        audit_url: str | None = None,
        profile: str | None = None,
        timeout_s: float = 30.0,
        settings: Settings | None = None,
        upload: UploadTransport | None = None,
    ) -> None:
        self.settings = settings or resolve(
            url=url,
            token=token,
            ingest_url=ingest_url,
            audit_url=audit_url,
            profile=profile,
            timeout_s=timeout_s,
        )
        # Bytes straight to S3 in resumable parts; the streamed form where ingest lacks that API.
        self.upload = upload or PresignedUpload(fallback=FormUpload())
        self._http = httpx.Client(timeout=self.settings.timeout_s, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the driver ----------------------------------------------------------------------------

    def run(self, op: Op[T]) -> T:
        """Perform an operation's steps until it returns; errors go back into it."""
        try:
            step = next(op)
            while True:
                try:
                    result = self._perform(step)
                except httpx.TransportError as exc:
                    step = op.throw(unreachable(exc))
                except Exception as exc:  # the operation may handle it, or it propagates
                    step = op.throw(exc)
                else:
                    step = op.send(result)
        except StopIteration as done:
            value: T = done.value
            return value

    def _perform(self, step: Step) -> Any:
        if isinstance(step, Call):
            return decode(self._http.request(**request_args(self.settings, step)), step)
        if isinstance(step, Pause):
            time.sleep(step.seconds)
            return None
        if isinstance(step, Send):
            return self._send(step)
        if isinstance(step, PutParts):
            return run_sync(
                step.job, self._http, self.settings.base_urls["ingest"], headers(self.settings)
            )
        return self._fetch(step)

    def _send(self, step: Send) -> Any:
        response = self._http.post(
            url_of(self.settings, step.service, step.path),
            content=step.body.chunks(step.progress),
            headers={
                **headers(self.settings),
                **step.headers,
                "Content-Type": step.body.content_type,
                "Content-Length": str(step.body.content_length),
            },
            timeout=TRANSFER_TIMEOUT,
        )
        return decode(response)

    def _fetch(self, step: Fetch) -> str:
        partial = PartialFile(step.target, step.file)
        if partial.already_complete():
            if step.progress:
                step.progress.start_file(step.file.path, step.file.size or 0)
                step.progress.finish_file(step.file.path)
            return step.file.sha256 or ""
        try:
            offset = partial.open()
            if step.progress:
                step.progress.start_file(step.file.path, offset)
            with self._http.stream(
                "GET", step.file.url, headers=partial.range_header(), timeout=TRANSFER_TIMEOUT
            ) as response:
                if response.status_code != 416:  # 416: the .part already holds everything
                    raise_for(response)
                    if offset and response.status_code != 206:
                        partial.restart()
                    for chunk in response.iter_bytes():
                        partial.write(chunk)
                        if step.progress:
                            step.progress.advance(step.file.path, len(chunk))
            digest = partial.complete()
        finally:
            partial.close()
        if step.progress:
            step.progress.finish_file(step.file.path)
        return digest

    # -- submitting ----------------------------------------------------------------------------

    def register_model(
        self,
        name: str,
        version: str,
        path: str | Path,
        *,
        card: ModelCard | Mapping[str, Any] | None = None,
        lineage: Lineage | Mapping[str, Any] | None = None,
        labels: Mapping[str, str] | None = None,
        hardware_profile: str | None = None,
        wait: bool = True,
        timeout_s: float | None = 600.0,
        progress: Progress | None = None,
        idempotency_key: str | None = None,
    ) -> Submission:
        """Upload a file or a model directory (relative paths kept) and, with `wait`, return
        once the gate decided: a rejection raises `GateRejected` carrying the failed checks."""
        meta = ops.build_metadata(
            name,
            version,
            card=card,
            lineage=lineage,
            labels=labels,
            hardware_profile=hardware_profile,
        )
        return self.run(
            ops.register_model(
                meta,
                Path(path),
                self.upload,
                wait_for_gate=wait,
                timeout_s=timeout_s,
                progress=progress,
                key=idempotency_key,
            )
        )

    def submission(self, submission_id: str) -> Submission:
        return self.run(ops.submission(submission_id))

    def wait(
        self,
        submission_id: str,
        *,
        timeout_s: float | None = 600.0,
        interval_s: float = 1.0,
        raise_on_reject: bool = True,
        on_change: Any = None,
        through_review: bool = False,
    ) -> Submission:
        return self.run(
            ops.wait(
                submission_id,
                timeout_s=timeout_s,
                interval_s=interval_s,
                raise_on_reject=raise_on_reject,
                on_change=on_change,
                through_review=through_review,
            )
        )

    # -- catalog -------------------------------------------------------------------------------

    def get_model(
        self,
        name: str,
        version: str | None = None,
        *,
        alias: str | None = None,
        stage: str | None = None,
    ) -> VersionDetail:
        return self.run(ops.get_model(name, version, alias, stage))

    def get_registered_model(self, name: str) -> ModelDetail:
        return self.run(ops.registered_model(name))

    def me(self) -> dict[str, Any]:
        """Who the registry takes the credentials for: subject, roles, permissions."""
        return self.run(ops.me())

    def search_models(self, **filters: Any) -> Page[Model]:
        return self.run(ops.search_models(**filters))

    def search_versions(self, **filters: Any) -> Page[Version]:
        return self.run(ops.search_versions(**filters))

    def list_models(self, **filters: Any) -> list[Model]:
        return self.run(ops.list_models(**filters))

    def list_versions(self, name: str, *, status: list[str] | None = None) -> list[Version]:
        return self.run(ops.list_versions(name, status))

    # -- lifecycle -----------------------------------------------------------------------------

    def transition(self, name: str, version: str, to_stage: str, reason: str) -> Version:
        return self.run(ops.transition(name, version, to_stage, reason))

    def promote(
        self, name: str, version: str, *, reason: str, to_stage: str = "production"
    ) -> Version:
        return self.run(ops.promote(name, version, reason, to_stage))

    def rollback(self, name: str, *, reason: str) -> Version:
        return self.run(ops.rollback(name, reason))

    def review_queue(self, *, limit: int = 50, cursor: str | None = None) -> Page[ReviewItem]:
        """Versions waiting for review, the longest-waiting first (admins)."""
        return self.run(ops.review_queue(limit, cursor))

    def approve(self, name: str, version: str, *, reason: str) -> Version:
        """Let a version waiting for review into the catalog (four-eyes: not your own)."""
        return self.run(ops.review(name, version, "approve", reason))

    def reject(self, name: str, version: str, *, reason: str) -> Version:
        """Refuse a version waiting for review, for good."""
        return self.run(ops.review(name, version, "reject", reason))

    def create_api_key(
        self, name: str, *, owner: str, roles: list[str], expires_in_days: int = 90
    ) -> ApiKeyCreated:
        """A key for a machine acting as `owner` (admins); `.key` is shown this once."""
        return self.run(ops.create_api_key(name, owner, roles, expires_in_days))

    def api_keys(
        self, *, owner: str | None = None, include_revoked: bool = False, limit: int = 200
    ) -> list[ApiKey]:
        """API keys, newest first, never the keys themselves (admins)."""
        return self.run(ops.list_api_keys(owner, include_revoked=include_revoked, limit=limit))

    def revoke_api_key(self, key_id: str, *, reason: str) -> ApiKey:
        """Revoke a key: every service refuses it from the next request on (admins)."""
        return self.run(ops.revoke_api_key(key_id, reason))

    def set_alias(self, name: str, alias: str, version: str, *, reason: str = "") -> Version:
        return self.run(ops.set_alias(name, alias, version, reason))

    def delete_alias(self, name: str, alias: str, *, reason: str = "") -> None:
        self.run(ops.delete_alias(name, alias, reason))

    def archive(self, name: str, version: str | None = None, *, reason: str) -> Model | Version:
        """Archive a version, or the whole model without `version`."""
        if version is None:
            return self.run(ops.archive_model(name, reason))
        return self.run(ops.archive_version(name, version, reason))

    def restore(self, name: str, version: str | None = None, *, reason: str) -> Model | Version:
        if version is None:
            return self.run(ops.archive_model(name, reason, restore=True))
        return self.run(ops.archive_version(name, version, reason, restore=True))

    def record_deployment(
        self, name: str, version: str, environment: str, *, note: str = ""
    ) -> Deployment:
        return self.run(ops.record_deployment(name, version, environment, note))

    def deployments(self, name: str) -> list[Deployment]:
        return self.run(ops.deployments(name))

    def download(
        self, name: str, version: str, dest: str | Path, *, progress: Progress | None = None
    ) -> list[Path]:
        """Every file under `dest`, SHA-256 verified; rerun to resume an interrupted one."""
        return self.run(ops.download(name, version, Path(dest), progress))

    def signing_key(self) -> str:
        """The gate's public key (PEM): what a download's `modelgate.sig` verifies with."""
        return self.run(ops.signing_key())

    # -- audit ---------------------------------------------------------------------------------

    def audit_entries(self, **filters: Any) -> AuditEntryPage:
        return self.run(ops.audit_entries(**filters))

    def export_audit(self) -> AuditExport:
        return self.run(ops.export_audit())

    def server_verify_audit(self, start: str = "genesis") -> ServerVerifyReport:
        """The audit service's own verdict on its chain."""
        return self.run(ops.server_verify(start))

    def verify_audit(
        self, export: AuditExport | None = None, *, public_key: str | None = None
    ) -> ChainReport:
        """Check the chain and its signed checkpoints here, trusting only the public key
        (`public_key` PEM; else the one published by the audit service)."""
        exported = export if export is not None else self.export_audit()
        pem = public_key or exported.public_key or self.run(ops.public_key())
        return verify_chain(exported.entries, exported.checkpoints, load_public_key(pem))
