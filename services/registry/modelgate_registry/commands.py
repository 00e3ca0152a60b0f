"""People's commands on the catalog: stage moves and promotion (four-eyes), aliases,
deployment records, archive and restore, metadata edits."""

from __future__ import annotations

from typing import Any

from modelgate_registry import errors, reviews
from modelgate_registry.recording import Change, Recorder
from modelgate_registry.records import DeploymentRecord, ModelRecord, VersionRecord
from modelgate_registry.stages import move_problem
from modelgate_registry.store import api_keys, history, models, versions
from modelgate_shared.auth import Permission, Principal
from modelgate_shared.db.pool import Connection
from modelgate_shared.events import (
    ARCHIVED,
    ModelArchived,
    Stage,
    TransitionKind,
    VersionStatus,
)

PRODUCTION_ALIAS = "production"
"""Moved only by promotion (and rollback, which is a promotion), so four-eyes cannot be skipped."""


class Commands(Recorder):
    """What people do to registered models: stages, aliases, deployments, archive and restore,
    metadata."""

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
                approver = await self._approve_production(conn, actor, version)
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

    async def _approve_production(
        self, conn: Connection, actor: Principal, version: VersionRecord
    ) -> str:
        if not actor.can(Permission.MODEL_PROMOTE_PRODUCTION):
            raise errors.forbidden(
                f"promotion to production needs the admin role; {actor.subject!r} lacks it"
            )
        if self.policy.four_eyes:
            # Only now: the keys' look-up is a round trip the four-eyes rule alone needs.
            issued = await api_keys.issued_for(conn, actor.subject, reviews.suppliers(version))
            supplied = reviews.supplied_by(actor.subject, version, issued)
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
