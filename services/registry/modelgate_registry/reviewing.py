"""The review step: an approver's decision on a version waiting for review, and the approval
(by a person or an auto-approval rule) that lets a version into the catalog."""

from __future__ import annotations

from typing import Any

from modelgate_registry import reviews
from modelgate_registry.recording import Change, Recorder
from modelgate_registry.records import VersionRecord
from modelgate_registry.store import api_keys, history, versions
from modelgate_shared.auth import Principal
from modelgate_shared.events import REGISTERED, ModelRegistered, Stage, VersionStatus


class Reviewing(Recorder):
    """Approvals and review decisions (`reviews` holds the rules they check)."""

    async def _approve(
        self,
        change: Change,
        version: VersionRecord,
        *,
        actor: str,
        approver: str,
        reason: str,
        **also: Any,
    ) -> VersionRecord:
        """Into the catalog: REGISTERED in development, with `model.registered` naming who
        let it in (`also`: more columns to write in the same update)."""
        updated = await versions.update(
            change.conn,
            version.id,
            **also,
            status=VersionStatus.REGISTERED.value,
            status_reason="",
            stage=Stage.DEVELOPMENT.value,
            review=reviews.record("approved", approver, reason),
        )
        await history.add_transition(
            change.conn,
            version.id,
            kind="status",
            from_value=version.status,
            to_value=VersionStatus.REGISTERED.value,
            actor=actor,
            approver=approver,
            reason=reason,
        )
        event = ModelRegistered(
            **await self._common(change, updated, actor),
            artifact_uri=updated.artifact["uri"] if updated.artifact else "",
            stage=Stage.DEVELOPMENT,
            certified_hardware_profiles=updated.hardware_profiles,
            approver=approver,
            reason=reason,
        )
        await self._publish(change, REGISTERED, event)
        return updated

    async def review(
        self,
        actor: Principal,
        name: str,
        version_name: str,
        decision: reviews.Decision,
        reason: str,
    ) -> VersionRecord:
        """An approver's decision on a version waiting for review."""
        async with self.transaction() as conn:
            change, version = await self._locate_version(conn, name, version_name)
            reviews.reviewable(version, name)
            issued = (
                await api_keys.issued_for(conn, actor.subject, reviews.suppliers(version))
                if self.policy.four_eyes
                else frozenset()
            )
            reviews.authorize(actor, version, four_eyes=self.policy.four_eyes, key_owners=issued)
            if decision == reviews.Decision.APPROVE:
                return await self._approve(
                    change, version, actor=actor.subject, approver=actor.subject, reason=reason
                )
            return await self._status(
                change,
                version,
                VersionStatus.REJECTED,
                actor=actor.subject,
                approver=actor.subject,
                reason=f"rejected in review: {reason}",
                review=reviews.record("rejected", actor.subject, reason),
            )
