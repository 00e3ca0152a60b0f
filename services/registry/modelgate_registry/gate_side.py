"""The gate's side of the registry: a submission recorded, a verdict applied (a rejection, or a
pass that waits for review unless the review policy approves it), and the review itself."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from modelgate_registry import reviews
from modelgate_registry.pinned_files import pinned_artifact, pinning_problem
from modelgate_registry.recording import Change, Recorder
from modelgate_registry.records import VersionRecord
from modelgate_registry.review_policy import auto_approver
from modelgate_registry.store import history, models, versions
from modelgate_registry.submission_binding import claim_problem, reuse_problem, verdict_problem
from modelgate_shared.auth import Principal
from modelgate_shared.db.pool import Connection
from modelgate_shared.events import (
    REGISTERED,
    TRANSITIONED,
    CheckStatus,
    ModelRegistered,
    ModelSubmitted,
    ModelTransitioned,
    ModelValidated,
    Stage,
    TransitionKind,
    Verdict,
    VersionStatus,
)
from modelgate_shared.names import identity_problems

VALIDATOR = "modelgate-validator"
UNDECIDED = (VersionStatus.PENDING, VersionStatus.VALIDATING)

log = logging.getLogger("modelgate.registry.gate")


class GateSide(Recorder):
    """Answers to the gate's events (a submission recorded, a verdict applied) and the
    review that follows a passed verdict."""

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
        fields = submission_fields(sub)
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
        decided, review, approver = VersionStatus.REJECTED, dict[str, Any](), None
        reason = "verdict arrived while archived"
        if passed:
            rule = self.policy.review.approving_rule(reviews.candidate(change.model, val))
            if rule is None:
                decided = VersionStatus.PENDING_REVIEW
                review = {"review_requested_at": datetime.now(UTC)}
            else:
                decided, approver = VersionStatus.REGISTERED, auto_approver(rule)
                reason = f"{reviews.auto_approval_reason(rule)} (while archived)"
                review = {"review": reviews.record("approved", approver, reason)}
        updated = await versions.update(
            change.conn,
            version.id,
            status_before_archive=decided.value,
            stage=Stage.DEVELOPMENT.value if decided == VersionStatus.REGISTERED else None,
            **(_verdict_fields(val, report) if passed else {"validation": report}),
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
            approver=approver,
            reason=reason,
        )

    async def _passed(
        self, change: Change, version: VersionRecord, val: ModelValidated, report: dict[str, Any]
    ) -> VersionStatus:
        """Keep what the validator established, then let the review policy decide: a matching
        rule registers the version at once, otherwise it waits for an approver. What the
        verdict establishes and the new status go in one UPDATE (one round trip per verdict
        less than two: the gate's hot path)."""
        await _ensure_model_artifact(change.conn, version, val)
        verdict = _verdict_fields(val, report)
        rule = self.policy.review.approving_rule(reviews.candidate(change.model, val))
        if rule is not None:
            await self._approve(
                change,
                version,
                actor=VALIDATOR,
                approver=auto_approver(rule),
                reason=reviews.auto_approval_reason(rule),
                **verdict,
            )
            return VersionStatus.REGISTERED
        await self._status(
            change,
            version,
            VersionStatus.PENDING_REVIEW,
            actor=VALIDATOR,
            reason="validation passed; waiting for review",
            review_requested_at=datetime.now(UTC),
            **verdict,
        )
        return VersionStatus.PENDING_REVIEW

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


def _verdict_fields(val: ModelValidated, report: dict[str, Any]) -> dict[str, Any]:
    """What a passed verdict establishes on the version, whatever happens next (review,
    auto-approval, or an archive that keeps it for a restore)."""
    return {
        "validation": report,
        "benchmark": val.benchmark.model_dump(mode="json") if val.benchmark else None,
        "hardware_profiles": list(val.certified_hardware_profiles),
        "artifact": pinned_artifact(val),
        "signer": val.signer.model_dump(mode="json") if val.signer else None,
    }


def submission_fields(sub: ModelSubmitted) -> dict[str, Any]:
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
    # One statement: replace the uri of the version's model artifact, or insert the artifact
    # when it has none (the version's row is locked, so nobody adds one in between).
    await conn.execute(
        "WITH replaced AS (UPDATE registry.artifacts SET uri = $2, updated_at = now() "
        "WHERE version_id = $1 AND artifact_type = 'model-artifact' RETURNING 1) "
        "INSERT INTO registry.artifacts (version_id, name, uri, state, properties) "
        "SELECT $1::bigint, $3::text, $2::text, 'LIVE', $4::jsonb "
        "WHERE NOT EXISTS (SELECT 1 FROM replaced)",
        version.id,
        val.pinned.uri,
        f"{sub.name}-{sub.version}",
        {"modelFormatName": sub.artifact.format.value},
    )
