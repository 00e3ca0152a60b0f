"""The registry's commands and its answers to the gate's events.

Every change runs in one transaction that (1) locks the model's row, (2) changes the state,
(3) records the history row and (4) writes each event, with the model's next sequence number,
to the outbox. A crash at any point leaves either all of it or none of it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from modelgate_registry import errors, reviews
from modelgate_registry.outbox import Outbox
from modelgate_registry.pinned_files import pinned_artifact, pinning_problem
from modelgate_registry.records import DeploymentRecord, ModelRecord, VersionRecord
from modelgate_registry.review_policy import ReviewPolicy, auto_approver
from modelgate_registry.stages import move_problem
from modelgate_registry.store import history, models, versions
from modelgate_registry.submission_binding import claim_problem, reuse_problem, verdict_problem
from modelgate_shared.auth import Permission, Principal
from modelgate_shared.db.pool import Connection
from modelgate_shared.events import (
    ARCHIVED,
    REGISTERED,
    SUBMITTED,
    TRANSITIONED,
    CheckStatus,
    EventType,
    ModelArchived,
    ModelRegistered,
    ModelSubmitted,
    ModelTransitioned,
    ModelValidated,
    RegistryEvent,
    Stage,
    TransitionKind,
    Verdict,
    VersionStatus,
)
from modelgate_shared.names import identity_problems

VALIDATOR = "modelgate-validator"
UNDECIDED = (VersionStatus.PENDING, VersionStatus.VALIDATING)
PRODUCTION_ALIAS = "production"
"""Moved only by promotion (and rollback, which is a promotion), so four-eyes cannot be skipped."""

log = logging.getLogger("modelgate.registry.lifecycle")


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


class Registry:
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
            "sequence": await models.next_sequence(change.conn, change.model.id),
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

    # -- the gate -----------------------------------------------------------------------------

    async def on_submitted(
        self, conn: Connection, sub: ModelSubmitted, headers: Mapping[str, str] | None = None
    ) -> None:
        """Record a submission as validating; refuse a duplicate name and version at once."""
        naming = identity_problems(sub.name, sub.version)
        if naming:
            # Published straight to Kafka past ingest's rules: no model row is made (it would
            # be listed in the catalog, e.g. a look-alike beside the real model). The
            # validator's policy check answers the submitter with a failed verdict.
            await history.refuse_submission(conn, sub.submission_id, "; ".join(naming))
            return
        reused = reuse_problem(await versions.identity_of(conn, sub.submission_id), sub)
        if reused:
            # Not a replay (that names the same version): nothing is made, no model row either.
            log.warning("submission refused: %s", reused)
            return
        card = sub.model_card
        model = await models.ensure_locked(
            conn,
            sub.name,
            sub.submitter,
            description=card.description,
            owner=card.owner_team,
            license=card.license,
        )
        change = Change(conn, model, headers)
        fields = _submission_fields(sub)
        created = await versions.create_submitted(
            conn,
            model.id,
            sub.version,
            submission_id=sub.submission_id,
            submitter=sub.submitter,
            status=VersionStatus.VALIDATING.value,
            **fields,
        )
        if created is not None:
            return
        existing = await versions.by_name(conn, model.id, sub.version)
        if existing is None:
            # The submission id is known under another model or version: a replay of a
            # submission recorded before; nothing to do.
            return
        if existing.submission_id == sub.submission_id:
            if existing.status == VersionStatus.PENDING:
                if claimed := claim_problem(existing, sub):
                    log.warning("submission refused: %s", claimed)
                    return
                await versions.update(conn, existing.id, **fields)
                await self._status(
                    change,
                    existing,
                    VersionStatus.VALIDATING,
                    actor=sub.submitter,
                    reason="artifact submitted to the gate",
                )
        elif existing.status == VersionStatus.REJECTED and not reviews.rejected_in_review(existing):
            # Rejected by the validator, the version never reached the catalog and nobody
            # judged the model: the number may be tried again. A rejection in review is final.
            await versions.replace_submission(
                conn, existing.id, sub.submission_id, sub.submitter, **fields
            )
            await history.add_transition(
                conn,
                existing.id,
                kind="status",
                from_value=existing.status,
                to_value=VersionStatus.VALIDATING.value,
                actor=sub.submitter,
                reason="submitted again",
            )
        else:
            await self._refuse(change, sub, existing)

    async def _refuse(self, change: Change, sub: ModelSubmitted, existing: VersionRecord) -> None:
        reason = (
            f"version {sub.version} of {sub.name} already exists (status "
            f"{existing.status}, submission {existing.submission_id}); versions are "
            "immutable: submit a new version"
        )
        if await history.refuse_submission(change.conn, sub.submission_id, reason):
            event = ModelTransitioned(
                **{
                    **await self._common(change, None, sub.submitter),
                    "version": sub.version,
                    "submission_id": sub.submission_id,
                },
                kind=TransitionKind.STATUS,
                to_value=VersionStatus.REJECTED.value,
                reason=reason,
            )
            await self._publish(change, TRANSITIONED, event)

    async def on_validated(
        self, conn: Connection, val: ModelValidated, headers: Mapping[str, str] | None = None
    ) -> VersionStatus | None:
        """Register or reject the version the verdict is about (once); returns the status it
        decided, or None when this verdict decided nothing (late, repeated, refused)."""
        sub = val.submission
        found = await versions.locked_by_submission(conn, sub.submission_id)
        if found is None:
            refused = await conn.fetchval(
                "SELECT 1 FROM registry.refused_submissions WHERE submission_id = $1",
                sub.submission_id,
            )
            if refused:
                return None
            # The verdict came first (topics are not ordered with each other): record it now.
            await self.on_submitted(conn, sub, headers)
            found = await versions.locked_by_submission(conn, sub.submission_id)
            if found is None:
                return None  # refused as a duplicate just now
        model, version = found
        if mismatch := verdict_problem(model, version, sub):
            log.warning("verdict ignored: %s", mismatch)
            return None
        change = Change(conn, model, headers)
        report = {
            "verdict": val.verdict.value,
            "checks": [c.model_dump(mode="json") for c in val.checks],
            "validated_at": val.validated_at.isoformat(),
            "submitted_event_id": str(val.submitted_event_id),
        }
        if version.status == VersionStatus.ARCHIVED and version.status_before_archive in UNDECIDED:
            await self._decided_while_archived(change, version, val, report)
            return None
        if version.status not in UNDECIDED:
            return None  # already decided: a late or repeated verdict changes nothing
        passed = val.verdict == Verdict.PASSED
        unpinned = pinning_problem(val, self.policy.pinned_bucket) if passed else None
        if val.verdict == Verdict.PASSED and unpinned is None:
            return await self._passed(change, version, val, report)
        failed = [f"{c.name}: {c.detail}" for c in val.checks if c.status == CheckStatus.FAILED]
        await versions.update(conn, version.id, validation=report)
        await self._status(
            change,
            version,
            VersionStatus.REJECTED,
            actor=VALIDATOR,
            reason=unpinned or "; ".join(failed) or "validation failed",
        )
        return VersionStatus.REJECTED

    async def _decided_while_archived(
        self, change: Change, version: VersionRecord, val: ModelValidated, report: dict[str, Any]
    ) -> None:
        """Archived before its verdict: keep the verdict for a later restore (no catalog event,
        the version stays out of the catalog)."""
        passed = (
            val.verdict == Verdict.PASSED
            and pinning_problem(val, self.policy.pinned_bucket) is None
        )
        decided, review = VersionStatus.REJECTED, dict[str, Any]()
        if passed:
            rule = self.policy.review.approving_rule(reviews.candidate(change.model, version, val))
            if rule is None:
                decided = VersionStatus.PENDING_REVIEW
                review = {"review_requested_at": datetime.now(UTC)}
            else:
                decided = VersionStatus.REGISTERED
                review = {
                    "review": reviews.record("approved", auto_approver(rule), rule.description)
                }
        updated = await versions.update(
            change.conn,
            version.id,
            status_before_archive=decided.value,
            validation=report,
            stage=Stage.DEVELOPMENT.value if decided == VersionStatus.REGISTERED else None,
            hardware_profiles=list(val.certified_hardware_profiles),
            **({"artifact": pinned_artifact(val)} if passed else {}),
            **review,
        )
        if passed:
            await _ensure_model_artifact(change.conn, updated, val)
        await history.add_transition(
            change.conn,
            version.id,
            kind="status",
            from_value=version.status_before_archive,
            to_value=decided.value,
            actor=VALIDATOR,
            reason="verdict arrived while archived",
        )

    async def _passed(
        self, change: Change, version: VersionRecord, val: ModelValidated, report: dict[str, Any]
    ) -> VersionStatus:
        """Keep what the validator established, then let the review policy decide: a matching
        rule registers the version at once, otherwise it waits for an approver."""
        updated = await versions.update(
            change.conn,
            version.id,
            validation=report,
            benchmark=val.benchmark.model_dump(mode="json") if val.benchmark else None,
            hardware_profiles=list(val.certified_hardware_profiles),
            artifact=pinned_artifact(val),
        )
        await _ensure_model_artifact(change.conn, updated, val)
        rule = self.policy.review.approving_rule(reviews.candidate(change.model, updated, val))
        if rule is not None:
            reason = f"validation passed; auto-approved by rule {rule.name!r}" + (
                f": {rule.description}" if rule.description else ""
            )
            await self._approve(
                change, updated, actor=VALIDATOR, approver=auto_approver(rule), reason=reason
            )
            return VersionStatus.REGISTERED
        await self._status(
            change,
            updated,
            VersionStatus.PENDING_REVIEW,
            actor=VALIDATOR,
            reason="validation passed; waiting for review",
            review_requested_at=datetime.now(UTC),
        )
        return VersionStatus.PENDING_REVIEW

    async def _approve(
        self, change: Change, version: VersionRecord, *, actor: str, approver: str, reason: str
    ) -> VersionRecord:
        """Into the catalog: REGISTERED in development, with `model.registered` naming who
        let it in."""
        updated = await versions.update(
            change.conn,
            version.id,
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
            reviews.authorize(actor, version, four_eyes=self.policy.four_eyes)
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

    # -- commands -----------------------------------------------------------------------------

    async def _locate(
        self, conn: Connection, name: str, version: str | None = None
    ) -> tuple[Change, VersionRecord | None]:
        model = await models.by_name(conn, name)
        if model is None:
            raise errors.not_found(f"model {name!r}")
        change = await _locked(conn, model)
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

    async def transition(
        self, actor: Principal, name: str, version_name: str, to: Stage, reason: str
    ) -> VersionRecord:
        async with self.transaction() as conn:
            change, version = await self._locate_version(conn, name, version_name)
            if version.status != VersionStatus.REGISTERED:
                raise errors.conflict(
                    f"only registered versions move between stages; "
                    f"{name} {version_name} is {version.status}"
                )
            problem = move_problem(Stage(version.stage or Stage.DEVELOPMENT), to)
            if problem:
                raise errors.conflict(problem)
            approver = None
            if version.stage == Stage.PRODUCTION:
                await self._leave_production(change, version, actor=actor.subject, reason=reason)
            if to == Stage.PRODUCTION:
                approver = self._approve_production(actor, version)
                for other in await versions.in_stage(conn, change.model.id, Stage.PRODUCTION):
                    await self._set_stage(
                        change,
                        other,
                        Stage.DEPRECATED,
                        actor=actor.subject,
                        reason=f"superseded by {version_name}: {reason}",
                    )
                await self._alias(
                    change,
                    PRODUCTION_ALIAS,
                    version,
                    actor=actor.subject,
                    reason=f"promoted to production: {reason}",
                )
            return await self._set_stage(
                change, version, to, actor=actor.subject, reason=reason, approver=approver
            )

    def _approve_production(self, actor: Principal, version: VersionRecord) -> str:
        if not actor.can(Permission.MODEL_PROMOTE_PRODUCTION):
            raise errors.forbidden(
                f"promotion to production needs the admin role; {actor.subject!r} lacks it"
            )
        if self.policy.four_eyes:
            supplied = reviews.supplied_by(actor.subject, version)
            if supplied:
                raise errors.forbidden(
                    f"four-eyes rule: {actor.subject!r} {' and '.join(supplied)} this version "
                    "and cannot also approve its promotion to production; another admin must "
                    "promote it"
                )
        return actor.subject

    async def _leave_production(
        self, change: Change, version: VersionRecord, *, actor: str, reason: str
    ) -> None:
        """A version moved out of production takes the production alias with it: the alias
        never points at a version that is not in production."""
        current = next(
            (
                a
                for a in await history.aliases(change.conn, change.model.id)
                if a.alias == PRODUCTION_ALIAS
            ),
            None,
        )
        if current is not None and current.version_id == version.id:
            await self._drop_alias(change, PRODUCTION_ALIAS, actor=actor, reason=reason)

    @staticmethod
    def _refuse_production_alias(name: str, alias: str) -> None:
        if alias == PRODUCTION_ALIAS:
            raise errors.conflict(
                f"the {PRODUCTION_ALIAS!r} alias moves only with a promotion, so that four-eyes "
                f"applies: POST /api/v1/models/{name}/versions/{{version}}/transitions with "
                '{"to_stage": "production", "reason": ...} (a rollback promotes the earlier '
                "version the same way)"
            )

    async def _set_stage(
        self,
        change: Change,
        version: VersionRecord,
        to: Stage,
        *,
        actor: str,
        reason: str,
        approver: str | None = None,
    ) -> VersionRecord:
        updated = await versions.update(change.conn, version.id, stage=to.value)
        await history.add_transition(
            change.conn,
            version.id,
            kind="stage",
            from_value=version.stage,
            to_value=to.value,
            actor=actor,
            approver=approver,
            reason=reason,
        )
        await self._emit_transition(
            change,
            updated,
            actor=actor,
            kind=TransitionKind.STAGE,
            from_value=version.stage,
            to_value=to.value,
            reason=reason,
            approver=approver,
        )
        return updated

    async def _alias(
        self, change: Change, alias: str, version: VersionRecord, *, actor: str, reason: str
    ) -> None:
        previous = await history.set_alias(
            change.conn, change.model.id, alias, version_id=version.id, actor=actor
        )
        if previous == version.id:
            return
        before = await versions.by_id(change.conn, previous) if previous else None
        from_value = before.version if before else None
        await self._record_alias(
            change, version, alias, from_value, version.version, actor=actor, reason=reason
        )

    async def _record_alias(
        self,
        change: Change,
        version: VersionRecord,
        alias: str,
        from_value: str | None,
        to_value: str,
        *,
        actor: str,
        reason: str,
    ) -> None:
        """An alias move's history row and its event, from the same values."""
        await history.add_transition(
            change.conn,
            version.id,
            kind="alias",
            from_value=from_value,
            to_value=to_value,
            actor=actor,
            reason=reason,
        )
        await self._emit_transition(
            change,
            version,
            actor=actor,
            kind=TransitionKind.ALIAS,
            environment=alias,
            from_value=from_value,
            to_value=to_value,
            reason=reason,
        )

    async def set_alias(
        self, actor: Principal, name: str, alias: str, version_name: str, reason: str
    ) -> VersionRecord:
        self._refuse_production_alias(name, alias)
        async with self.transaction() as conn:
            change, version = await self._locate_version(conn, name, version_name)
            if version.status != VersionStatus.REGISTERED:
                raise errors.conflict(
                    f"aliases point at registered versions; {name} "
                    f"{version_name} is {version.status}"
                )
            await self._alias(change, alias, version, actor=actor.subject, reason=reason)
            return version

    async def delete_alias(self, actor: Principal, name: str, alias: str, reason: str) -> None:
        self._refuse_production_alias(name, alias)
        async with self.transaction() as conn:
            change, _ = await self._locate(conn, name)
            if not await self._drop_alias(change, alias, actor=actor.subject, reason=reason):
                raise errors.not_found(f"alias {alias!r} of model {name!r}")

    async def _drop_alias(self, change: Change, alias: str, *, actor: str, reason: str) -> bool:
        """Remove an alias with its history row and event; False if it did not exist."""
        version_id = await history.delete_alias(change.conn, change.model.id, alias)
        if version_id is None:
            return False
        version = await versions.by_id(change.conn, version_id)
        assert version is not None
        await self._record_alias(
            change, version, alias, version.version, "(removed)", actor=actor, reason=reason
        )
        return True

    async def deploy(
        self, actor: Principal, name: str, version_name: str, environment: str, note: str
    ) -> DeploymentRecord:
        async with self.transaction() as conn:
            change, version = await self._locate_version(conn, name, version_name)
            if version.status != VersionStatus.REGISTERED or change.model.state != "LIVE":
                raise errors.conflict(
                    f"only registered versions of live models can be "
                    f"deployed; {name} {version_name} is {version.status}"
                )
            running = await history.running_where(conn, change.model.id)
            before = next((d.version for d in running if d.environment == environment), None)
            record = await history.add_deployment(
                conn,
                change.model.id,
                version.id,
                environment=environment,
                actor=actor.subject,
                note=note,
            )
            await history.add_transition(
                conn,
                version.id,
                kind="deployment",
                from_value=before,
                to_value=version.version,
                actor=actor.subject,
                reason=note,
            )
            await self._emit_transition(
                change,
                version,
                actor=actor.subject,
                kind=TransitionKind.DEPLOYMENT,
                environment=environment,
                from_value=before,
                to_value=version.version,
                reason=note,
            )
            return record

    async def archive_version(
        self, actor: Principal, name: str, version_name: str, reason: str
    ) -> VersionRecord:
        async with self.transaction() as conn:
            change, version = await self._locate_version(conn, name, version_name)
            return await self.archive(change, version, actor.subject, reason)

    async def archive(
        self, change: Change, version: VersionRecord, actor: str, reason: str
    ) -> VersionRecord:
        if version.status == VersionStatus.ARCHIVED:
            return version
        pointing = [
            a.alias
            for a in await history.aliases(change.conn, change.model.id)
            if a.version_id == version.id
        ]
        if pointing:
            raise errors.conflict(
                f"alias(es) {', '.join(pointing)} point at this version; "
                "move or delete them before archiving it"
            )
        return await self._status(
            change, version, VersionStatus.ARCHIVED, actor=actor, reason=reason
        )

    async def restore_version(
        self, actor: Principal, name: str, version_name: str, reason: str
    ) -> VersionRecord:
        async with self.transaction() as conn:
            change, version = await self._locate_version(conn, name, version_name)
            return await self.restore(change, version, actor.subject, reason)

    async def restore(
        self, change: Change, version: VersionRecord, actor: str, reason: str
    ) -> VersionRecord:
        if version.status != VersionStatus.ARCHIVED:
            return version
        back = VersionStatus(version.status_before_archive or VersionStatus.REGISTERED)
        return await self._status(change, version, back, actor=actor, reason=reason)

    async def set_model_state(
        self, actor: Principal, name: str, state: str, reason: str
    ) -> ModelRecord:
        """Archive (state ARCHIVED) or restore (LIVE) a whole model; nothing is erased."""
        async with self.transaction() as conn:
            change, _ = await self._locate(conn, name)
            return await self.model_state(change, state, actor.subject, reason)

    async def model_state(self, change: Change, state: str, actor: str, reason: str) -> ModelRecord:
        if change.model.state == state:
            return change.model
        updated = await models.update(change.conn, change.model.id, state=state)
        if state == "ARCHIVED":
            event = ModelArchived(**await self._common(change, None, actor), reason=reason)
            await self._publish(change, ARCHIVED, event)
        else:
            await self._emit_transition(
                change,
                None,
                actor=actor,
                kind=TransitionKind.STATUS,
                from_value="ARCHIVED",
                to_value="LIVE",
                reason=reason,
            )
        return updated

    async def update_model(
        self, actor: Principal, name: str, fields: dict[str, Any]
    ) -> ModelRecord:
        """Change a model's description, owner, licence or labels (absent fields stay)."""
        async with self.transaction() as conn:
            change, _ = await self._locate(conn, name)
            updated = await models.update(conn, change.model.id, **fields)
            await self.metadata_changed(change, None, actor.subject, sorted(fields))
            return updated

    async def update_version(
        self, actor: Principal, name: str, version_name: str, fields: dict[str, Any]
    ) -> VersionRecord:
        """Change a version's description or labels (absent fields stay)."""
        async with self.transaction() as conn:
            change, version = await self._locate_version(conn, name, version_name)
            updated = await versions.update(conn, version.id, **fields)
            await self.metadata_changed(change, version, actor.subject, sorted(fields))
            return updated

    # -- used by the Kubeflow API -----------------------------------------------------------

    async def locked(self, conn: Connection, model: ModelRecord) -> Change:
        return await _locked(conn, model)

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
        await versions.update(change.conn, version.id, **_submission_fields(submission))
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


async def _locked(
    conn: Connection, model: ModelRecord, headers: Mapping[str, str] | None = None
) -> Change:
    await models.lock(conn, model.id)
    return Change(conn, model, headers)


def _submission_fields(sub: ModelSubmitted) -> dict[str, Any]:
    card = sub.model_card
    return {
        "description": card.description,
        "labels": dict(sub.labels),
        "model_card": card.model_dump(mode="json", exclude_none=True),
        "lineage": {
            k: v
            for k, v in {
                "source": sub.source,
                "training_data_version": card.training_data_version,
                "code_commit": card.code_commit,
                "submitted_at": sub.submitted_at.isoformat(),
            }.items()
            if v
        },
        "artifact": sub.artifact.model_dump(mode="json"),
        # Who supplied the bytes: the submitter of an ingest or Kafka submission, whoever
        # attached the model artifact of a Kubeflow version (four-eyes checks both).
        "uploader": sub.submitter,
        "requested_profile": sub.hardware_profile,
    }


async def _ensure_model_artifact(
    conn: Connection, version: VersionRecord, val: ModelValidated
) -> None:
    """Registered versions are visible to Kubeflow clients with their ModelArtifact, whose
    `uri` is the pinned root: one a Kubeflow client attached is replaced by it, since the
    catalog serves only the validated copies."""
    assert val.pinned is not None
    sub = val.submission
    updated = await conn.execute(
        "UPDATE registry.artifacts SET uri = $2, updated_at = now() "
        "WHERE version_id = $1 AND artifact_type = 'model-artifact'",
        version.id,
        val.pinned.uri,
    )
    if updated != "UPDATE 0":
        return
    await conn.execute(
        "INSERT INTO registry.artifacts (version_id, name, uri, state, properties) "
        "VALUES ($1, $2, $3, 'LIVE', $4)",
        version.id,
        f"{sub.name}-{sub.version}",
        val.pinned.uri,
        {"modelFormatName": sub.artifact.format.value},
    )


def trace_of(headers: Mapping[str, str]) -> dict[str, str]:
    """The trace context of an incoming event, carried on to the events it causes."""
    return {k: v for k, v in headers.items() if k in ("traceparent", "tracestate")}
