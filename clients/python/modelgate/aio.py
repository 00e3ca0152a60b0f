"""The asynchronous twin of `client.Client`: the same methods, awaited.

It runs the very operations the synchronous client runs (`operations.py`), performing their
steps with httpx's async client, so the two answer alike by construction.
"""

from __future__ import annotations

import asyncio
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
from modelgate.presigned import PresignedUpload, run_async
from modelgate.progress import Progress
from modelgate.steps import Call, Fetch, Op, Pause, PutParts, Send, Step
from modelgate.upload import FormUpload, UploadTransport

T = TypeVar("T")


class AsyncClient:
    """`Client`, for asyncio programs: `async with AsyncClient() as mg: await mg.get_model(…)`."""

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
        self._http = httpx.AsyncClient(timeout=self.settings.timeout_s, follow_redirects=False)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the driver ----------------------------------------------------------------------------

    async def run(self, op: Op[T]) -> T:
        """Perform an operation's steps until it returns; errors go back into it."""
        try:
            step = next(op)
            while True:
                try:
                    result = await self._perform(step)
                except httpx.TransportError as exc:
                    step = op.throw(unreachable(exc))
                except Exception as exc:  # the operation may handle it, or it propagates
                    step = op.throw(exc)
                else:
                    step = op.send(result)
        except StopIteration as done:
            value: T = done.value
            return value

    async def _perform(self, step: Step) -> Any:
        if isinstance(step, Call):
            return decode(await self._http.request(**request_args(self.settings, step)), step)
        if isinstance(step, Pause):
            await asyncio.sleep(step.seconds)
            return None
        if isinstance(step, Send):
            return await self._send(step)
        if isinstance(step, PutParts):
            return await run_async(
                step.job, self._http, self.settings.base_urls["ingest"], headers(self.settings)
            )
        return await self._fetch(step)

    async def _send(self, step: Send) -> Any:
        response = await self._http.post(
            url_of(self.settings, step.service, step.path),
            content=step.body.achunks(step.progress),
            headers={
                **headers(self.settings),
                **step.headers,
                "Content-Type": step.body.content_type,
                "Content-Length": str(step.body.content_length),
            },
            timeout=TRANSFER_TIMEOUT,
        )
        return decode(response)

    async def _fetch(self, step: Fetch) -> str:
        partial = PartialFile(step.target, step.file)
        if await asyncio.to_thread(partial.already_complete):
            if step.progress:
                step.progress.start_file(step.file.path, step.file.size or 0)
                step.progress.finish_file(step.file.path)
            return step.file.sha256 or ""
        try:
            offset = await asyncio.to_thread(partial.open)
            if step.progress:
                step.progress.start_file(step.file.path, offset)
            async with self._http.stream(
                "GET", step.file.url, headers=partial.range_header(), timeout=TRANSFER_TIMEOUT
            ) as response:
                if response.status_code != 416:  # 416: the .part already holds everything
                    raise_for(response)
                    if offset and response.status_code != 206:
                        partial.restart()
                    async for chunk in response.aiter_bytes():
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

    async def register_model(
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
        return await self.run(
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

    async def submission(self, submission_id: str) -> Submission:
        return await self.run(ops.submission(submission_id))

    async def wait(
        self,
        submission_id: str,
        *,
        timeout_s: float | None = 600.0,
        interval_s: float = 1.0,
        raise_on_reject: bool = True,
        on_change: Any = None,
        through_review: bool = False,
    ) -> Submission:
        return await self.run(
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

    async def get_model(
        self,
        name: str,
        version: str | None = None,
        *,
        alias: str | None = None,
        stage: str | None = None,
    ) -> VersionDetail:
        return await self.run(ops.get_model(name, version, alias, stage))

    async def get_registered_model(self, name: str) -> ModelDetail:
        return await self.run(ops.registered_model(name))

    async def me(self) -> dict[str, Any]:
        """Who the registry takes the credentials for: subject, roles, permissions."""
        return await self.run(ops.me())

    async def search_models(self, **filters: Any) -> Page[Model]:
        return await self.run(ops.search_models(**filters))

    async def search_versions(self, **filters: Any) -> Page[Version]:
        return await self.run(ops.search_versions(**filters))

    async def list_models(self, **filters: Any) -> list[Model]:
        return await self.run(ops.list_models(**filters))

    async def list_versions(self, name: str, *, status: list[str] | None = None) -> list[Version]:
        return await self.run(ops.list_versions(name, status))

    # -- lifecycle -----------------------------------------------------------------------------

    async def transition(self, name: str, version: str, to_stage: str, reason: str) -> Version:
        return await self.run(ops.transition(name, version, to_stage, reason))

    async def promote(
        self, name: str, version: str, *, reason: str, to_stage: str = "production"
    ) -> Version:
        return await self.run(ops.promote(name, version, reason, to_stage))

    async def rollback(self, name: str, *, reason: str) -> Version:
        return await self.run(ops.rollback(name, reason))

    async def review_queue(self, *, limit: int = 50, cursor: str | None = None) -> Page[ReviewItem]:
        """Versions waiting for review, the longest-waiting first (admins)."""
        return await self.run(ops.review_queue(limit, cursor))

    async def approve(self, name: str, version: str, *, reason: str) -> Version:
        """Let a version waiting for review into the catalog (four-eyes: not your own)."""
        return await self.run(ops.review(name, version, "approve", reason))

    async def reject(self, name: str, version: str, *, reason: str) -> Version:
        """Refuse a version waiting for review, for good."""
        return await self.run(ops.review(name, version, "reject", reason))

    async def create_api_key(
        self, name: str, *, owner: str, roles: list[str], expires_in_days: int = 90
    ) -> ApiKeyCreated:
        """A key for a machine acting as `owner` (admins); `.key` is shown this once."""
        return await self.run(ops.create_api_key(name, owner, roles, expires_in_days))

    async def api_keys(
        self, *, owner: str | None = None, include_revoked: bool = False, limit: int = 200
    ) -> list[ApiKey]:
        """API keys, newest first, never the keys themselves (admins)."""
        return await self.run(
            ops.list_api_keys(owner, include_revoked=include_revoked, limit=limit)
        )

    async def revoke_api_key(self, key_id: str, *, reason: str) -> ApiKey:
        """Revoke a key: every service refuses it from the next request on (admins)."""
        return await self.run(ops.revoke_api_key(key_id, reason))

    async def set_alias(self, name: str, alias: str, version: str, *, reason: str = "") -> Version:
        return await self.run(ops.set_alias(name, alias, version, reason))

    async def delete_alias(self, name: str, alias: str, *, reason: str = "") -> None:
        await self.run(ops.delete_alias(name, alias, reason))

    async def archive(
        self, name: str, version: str | None = None, *, reason: str
    ) -> Model | Version:
        """Archive a version, or the whole model without `version`."""
        if version is None:
            return await self.run(ops.archive_model(name, reason))
        return await self.run(ops.archive_version(name, version, reason))

    async def restore(
        self, name: str, version: str | None = None, *, reason: str
    ) -> Model | Version:
        if version is None:
            return await self.run(ops.archive_model(name, reason, restore=True))
        return await self.run(ops.archive_version(name, version, reason, restore=True))

    async def record_deployment(
        self, name: str, version: str, environment: str, *, note: str = ""
    ) -> Deployment:
        return await self.run(ops.record_deployment(name, version, environment, note))

    async def deployments(self, name: str) -> list[Deployment]:
        return await self.run(ops.deployments(name))

    async def download(
        self, name: str, version: str, dest: str | Path, *, progress: Progress | None = None
    ) -> list[Path]:
        """Every file under `dest`, SHA-256 verified; rerun to resume an interrupted one."""
        return await self.run(ops.download(name, version, Path(dest), progress))

    async def signing_key(self) -> str:
        """The gate's public key (PEM): what a download's `modelgate.sig` verifies with."""
        return await self.run(ops.signing_key())

    # -- audit ---------------------------------------------------------------------------------

    async def audit_entries(self, **filters: Any) -> AuditEntryPage:
        return await self.run(ops.audit_entries(**filters))

    async def export_audit(self) -> AuditExport:
        return await self.run(ops.export_audit())

    async def server_verify_audit(self, start: str = "genesis") -> ServerVerifyReport:
        """The audit service's own verdict on its chain."""
        return await self.run(ops.server_verify(start))

    async def verify_audit(
        self, export: AuditExport | None = None, *, public_key: str | None = None
    ) -> ChainReport:
        """Check the chain and its signed checkpoints here, trusting only the public key
        (`public_key` PEM; else the one published by the audit service)."""
        exported = export if export is not None else await self.export_audit()
        pem = public_key or exported.public_key
        if pem is None:
            pem = await self.run(ops.public_key())
        return verify_chain(exported.entries, exported.checkpoints, load_public_key(pem))
