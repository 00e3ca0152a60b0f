"""The human gatekeeper's rules, free of storage: who may decide a review, and what is recorded.

A version that passes validation waits in `PENDING_REVIEW` until an approver (the admin role)
approves it into the catalog or rejects it, unless the auto-approval policy
(`review_policy`) approves it first. A rejection in review is final: that version number is
never submitted again (a validator's rejection, by contrast, may be retried: nobody judged
the model, the files were broken).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from modelgate_registry import errors
from modelgate_registry.records import ModelRecord, VersionRecord
from modelgate_registry.review_policy import Candidate, Rule
from modelgate_shared.auth import Permission, Principal
from modelgate_shared.events import ModelValidated


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


def suppliers(version: VersionRecord) -> list[str]:
    """Who supplied this version: its submitter, and the uploader of its bytes if another."""
    return [who for who in (version.submitter, version.uploader) if who]


def supplied_by(
    subject: str, version: VersionRecord, key_owners: frozenset[str] = frozenset()
) -> list[str]:
    """What `subject` did to supply this version: submitted it, uploaded its bytes, or both,
    in person or through an API key it issued (`key_owners`: the suppliers holding a key
    `subject` created; a key's issuer answers for what the key does)."""
    done = []
    for role, who in (("submitted", version.submitter), ("uploaded", version.uploader)):
        if who == subject:
            done.append(role)
        elif who in key_owners:
            done.append(f"issued the API key that {role}")
    return done


def authorize(
    actor: Principal,
    version: VersionRecord,
    *,
    four_eyes: bool,
    key_owners: frozenset[str] = frozenset(),
) -> None:
    """Raise the 403 that says why `actor` may not decide `version`'s review."""
    if not actor.can(Permission.MODEL_REVIEW):
        raise errors.forbidden(
            f"reviewing a version needs the admin role ({Permission.MODEL_REVIEW.value}); "
            f"{actor.subject!r} lacks it"
        )
    supplied = supplied_by(actor.subject, version, key_owners) if four_eyes else []
    if supplied:
        raise errors.forbidden(
            f"four-eyes rule: {actor.subject!r} {' and '.join(supplied)} this version and "
            "cannot also review it; another admin must approve or reject it"
        )


def reviewable(version: VersionRecord, name: str) -> None:
    """Raise the 409 for a version that is not waiting for review."""
    if version.status == "PENDING_REVIEW":
        return
    decided = version.review or {}
    if decided.get("decision"):
        by = decided.get("by", "?")
        raise errors.conflict(
            f"{name} {version.version} was already {decided['decision']} by {by}; "
            f"it is {version.status}"
        )
    raise errors.conflict(
        f"only versions waiting for review (PENDING_REVIEW) are approved or rejected; "
        f"{name} {version.version} is {version.status}"
    )


def record(decision: str, by: str, reason: str) -> dict[str, Any]:
    """The `review` column: what was decided, by whom, when and why."""
    return {"decision": decision, "by": by, "reason": reason, "at": datetime.now(UTC).isoformat()}


def rejected_in_review(version: VersionRecord) -> bool:
    return (version.review or {}).get("decision") == "rejected"


def candidate(model: ModelRecord, val: ModelValidated) -> Candidate:
    """The facts an auto-approval rule may look at: the submission the validator checked (its
    card and labels as submitted; the version row's labels can be edited while it waits, which
    must not buy an approval) and what the validator established."""
    sub = val.submission
    return Candidate(
        name=model.name,
        owner_team=sub.model_card.owner_team or model.owner,
        license=sub.model_card.license or model.license,
        labels=dict(sub.labels),
        hardware_profiles=list(val.certified_hardware_profiles),
        benchmark=val.benchmark.model_dump(mode="json") if val.benchmark else None,
    )


def auto_approval_reason(rule: Rule) -> str:
    return f"validation passed; auto-approved by rule {rule.name!r}" + (
        f": {rule.description}" if rule.description else ""
    )
