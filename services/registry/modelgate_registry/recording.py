"""The registry's shared steps: the transaction, the locked model, and how a change is
recorded (the history row and the event written to the outbox, in that transaction).

Every change runs in one transaction that (1) locks the model's row, (2) changes the state,
(3) records the history row and (4) writes each event, with the model's next sequence number,
to the outbox. A crash at any point leaves either all of it or none of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from modelgate_registry import errors
from modelgate_registry.outbox import Outbox
from modelgate_registry.records import ModelRecord, VersionRecord
from modelgate_registry.review_policy import ReviewPolicy
from modelgate_registry.store import history, models, versions
from modelgate_shared.db.pool import Connection
from modelgate_shared.events import (
    ARCHIVED,
    TRANSITIONED,
    EventType,
    ModelArchived,
    ModelTransitioned,
    RegistryEvent,
    TransitionKind,
    VersionStatus,
)


@dataclass(frozen=True, kw_only=True)
class Policy:
    four_eyes: bool = True
    """Promotion to production must be approved by someone other than whoever supplied the
    version: its submitter and the uploader of its model artifact."""
    pinned_bucket: str | None = None
    """The bucket the validator pins into: a verdict naming copies anywhere else is refused."""
    review: ReviewPolicy = field(default_factory=lambda: ReviewPolicy(None))
    """Which validated versions skip the human review (none by default)."""


@dataclass(frozen=True)
class Change:
    """One transaction's change to one model: the connection, the model (its row locked) and
    the trace context the events should carry."""

    conn: Connection
    model: ModelRecord
    headers: Mapping[str, str] | None = None


class Recorder:
    """What every change shares: its transaction, the model's row lock, and the
    recording of a change as a history row plus an event in the outbox."""

    def __init__(self, pool: asyncpg.Pool, outbox: Outbox, policy: Policy) -> None:
        self.pool = pool
        self.outbox = outbox
        self.policy = policy

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn

    # -- events -------------------------------------------------------------------------------

    async def _common(
        self, change: Change, version: VersionRecord | None, actor: str
    ) -> dict[str, Any]:
        return {
            "model_id": change.model.id,
            "name": change.model.name,
            "version_id": version.id if version else None,
            "version": version.version if version else None,
            "actor": actor,
            "sequence": await models.next_sequence(
                change.conn, change.model.id, change.model.sequence
            ),
            "occurred_at": datetime.now(UTC),
            "submission_id": version.submission_id if version else None,
        }

    async def _publish(self, change: Change, kind: EventType, data: RegistryEvent) -> None:
        subject = f"{data.name}/{data.version}" if data.version else data.name
        await self.outbox.add(
            change.conn, kind, data, key=data.name, subject=subject, headers=change.headers
        )

    async def _emit_transition(
        self, change: Change, version: VersionRecord | None, *, actor: str, **data: Any
    ) -> None:
        event = ModelTransitioned(**{**await self._common(change, version, actor), **data})
        await self._publish(change, TRANSITIONED, event)

    async def _status(
        self,
        change: Change,
        version: VersionRecord,
        to: VersionStatus,
        *,
        actor: str,
        reason: str = "",
        approver: str | None = None,
        **also: Any,
    ) -> VersionRecord:
        """Move a version's gate status, with its history row and its event (`also`: more
        columns to write in the same update)."""
        before = version.status
        fields: dict[str, Any] = {"status": to.value, "status_reason": reason, **also}
        if to == VersionStatus.ARCHIVED:
            fields["status_before_archive"] = before
        updated = await versions.update(change.conn, version.id, **fields)
        await history.add_transition(
            change.conn,
            version.id,
            kind="status",
            from_value=before,
            to_value=to.value,
            actor=actor,
            approver=approver,
            reason=reason,
        )
        if to == VersionStatus.ARCHIVED:
            event = ModelArchived(**await self._common(change, updated, actor), reason=reason)
            await self._publish(change, ARCHIVED, event)
        else:
            await self._emit_transition(
                change,
                updated,
                actor=actor,
                kind=TransitionKind.STATUS,
                from_value=before,
                to_value=to.value,
                reason=reason,
                approver=approver,
            )
        return updated

    async def _locate(
        self, conn: Connection, name: str, version: str | None = None
    ) -> tuple[Change, VersionRecord | None]:
        model = await models.by_name(conn, name)
        if model is None:
            raise errors.not_found(f"model {name!r}")
        change = await locked(conn, model)
        if version is None:
            return change, None
        found = await versions.by_name(conn, model.id, version)
        if found is None:
            raise errors.not_found(f"version {version!r} of model {name!r}")
        return change, found

    async def _locate_version(
        self, conn: Connection, name: str, version: str
    ) -> tuple[Change, VersionRecord]:
        change, found = await self._locate(conn, name, version)
        assert found is not None
        return change, found

    async def metadata_changed(
        self, change: Change, version: VersionRecord | None, actor: str, changed: list[str]
    ) -> None:
        """History and event of a metadata change the caller wrote in `change.conn`."""
        if not changed:
            return
        what = f"updated {', '.join(changed)}"
        if version is not None:
            await history.add_transition(
                change.conn,
                version.id,
                kind="metadata",
                from_value=None,
                to_value=what,
                actor=actor,
            )
        await self._emit_transition(
            change, version, actor=actor, kind=TransitionKind.METADATA, to_value=what
        )


async def locked(
    conn: Connection, model: ModelRecord, headers: Mapping[str, str] | None = None
) -> Change:
    await models.lock(conn, model.id)
    return Change(conn, model, headers)


def trace_of(headers: Mapping[str, str]) -> dict[str, str]:
    """The trace context of an incoming event, carried on to the events it causes."""
    return {k: v for k, v in headers.items() if k in ("traceparent", "tracestate")}
