"""Steps of the Kubeflow API's authoring path: a version created without an artifact
(`PENDING`), submitted to the gate when its model artifact is attached, or refused."""

from __future__ import annotations

from modelgate_registry.recording import Change, Recorder, locked
from modelgate_registry.records import ModelRecord, VersionRecord
from modelgate_registry.store import history, versions
from modelgate_registry.version_fields import submission_fields
from modelgate_shared.db.pool import Connection
from modelgate_shared.events import (
    SUBMITTED,
    ModelSubmitted,
    TransitionKind,
    VersionStatus,
)


class Authoring(Recorder):
    """Steps the Kubeflow API composes in its own transactions: a version created empty, then
    submitted to the gate when its model artifact is attached."""

    async def locked(self, conn: Connection, model: ModelRecord) -> Change:
        return await locked(conn, model)

    async def created(self, change: Change, version: VersionRecord | None, actor: str) -> None:
        """History and event of a model or version created through the Kubeflow API."""
        if version is None:
            await self._emit_transition(
                change, None, actor=actor, kind=TransitionKind.METADATA, to_value="created"
            )
            return
        await history.add_transition(
            change.conn,
            version.id,
            kind="status",
            from_value=None,
            to_value=version.status,
            actor=actor,
            reason="created",
        )
        await self._emit_transition(
            change,
            version,
            actor=actor,
            kind=TransitionKind.STATUS,
            to_value=version.status,
            reason="created",
        )

    async def submit(
        self, change: Change, version: VersionRecord, submission: ModelSubmitted
    ) -> VersionRecord:
        """A version whose artifact is now known enters the gate: `model.submitted` goes out
        through the outbox, in the same transaction as the status change."""
        await versions.update(change.conn, version.id, **submission_fields(submission))
        await self.outbox.add(
            change.conn,
            SUBMITTED,
            submission,
            key=submission.name,
            subject=f"{submission.name}/{submission.version}",
        )
        return await self._status(
            change,
            version,
            VersionStatus.VALIDATING,
            actor=submission.submitter,  # the uploader: who attached the artifact
            reason="artifact attached",
        )

    async def reject(
        self, change: Change, version: VersionRecord, actor: str, reason: str
    ) -> VersionRecord:
        return await self._status(
            change, version, VersionStatus.REJECTED, actor=actor, reason=reason
        )
