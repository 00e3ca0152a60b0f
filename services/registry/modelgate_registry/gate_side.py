"""The gate's events in the registry: a submission recorded, a verdict applied (a rejection, or a
pass that waits for review unless the review policy approves it: `reviewing`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from modelgate_registry import reviews
from modelgate_registry.pinned_files import pinning_problem
from modelgate_registry.recording import Change
from modelgate_registry.records import VersionRecord
from modelgate_registry.review_policy import auto_approver
from modelgate_registry.reviewing import Reviewing
from modelgate_registry.store import artifacts, history, models, submissions, versions
from modelgate_registry.submission_binding import claim_problem, reuse_problem, verdict_problem
from modelgate_registry.version_fields import submission_fields, verdict_fields
from modelgate_shared.db.pool import Connection
from modelgate_shared.events import (
    TRANSITIONED,
    CheckStatus,
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


class GateSide(Reviewing):
    """Answers to the gate's events: a submission recorded, a verdict applied."""

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
        card = sub.model_card
        model_fields = {
            "description": card.description,
            "owner": card.owner_team,
            "license": card.license,
        }
        fields = submission_fields(sub)
        # The usual case in one round trip: an unbound id, its model made or found and locked,
        # its version made. An id already bound makes nothing there: it is checked below, and
        # a replay of the same version goes on to the version that id already has.
        recorded = await submissions.record_new(
            conn,
            sub.name,
            sub.version,
            submission_id=sub.submission_id,
            submitter=sub.submitter,
            status=VersionStatus.VALIDATING.value,
            model_fields=model_fields,
            **fields,
        )
        if recorded.created is not None:
            return
        if reused := reuse_problem(recorded.bound, sub):
            # Not a replay (that names the same version): nothing is made. (Two registry
            # replicas recording one id under two names at once can each see it unbound; the
            # version's unique submission id still lets only one version have it.)
            log.warning("submission refused: %s", reused)
            return
        model = recorded.model or await models.ensure_locked(
            conn, sub.name, sub.submitter, **model_fields
        )
        change = Change(conn, model, headers)
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
            if await history.was_refused(conn, sub.submission_id):
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
            **(verdict_fields(val, report) if passed else {"validation": report}),
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
        verdict = verdict_fields(val, report)
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


async def _ensure_model_artifact(
    conn: Connection, version: VersionRecord, val: ModelValidated
) -> None:
    """Registered versions are visible to Kubeflow clients with their ModelArtifact, whose
    `uri` is the pinned root: one a Kubeflow client attached is replaced by it, since the
    catalog serves only the validated copies."""
    assert val.pinned is not None
    sub = val.submission
    await artifacts.pin_model_artifact(
        conn, version.id, val.pinned.uri, f"{sub.name}-{sub.version}", sub.artifact.format.value
    )
