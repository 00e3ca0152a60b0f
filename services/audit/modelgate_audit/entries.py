"""What an audit entry says, derived from the event alone (so `verify` can derive it again).

Entries read like the seeds' audit example: an action, the model and version, who performed
it, from and to stage, who approved, and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

TYPE_PREFIX = "io.modelgate.model."
# The same parsing the event contract applies (RFC 3339, any sub-second precision).
_TIME: TypeAdapter[datetime] = TypeAdapter(datetime)
VALIDATOR = "modelgate-validator"


@dataclass(frozen=True)
class Described:
    subject: str | None
    model: str | None
    version: str | None
    action: str
    actor: str | None
    from_stage: str | None
    to_stage: str | None
    approver: str | None
    reason: str | None
    event_time: datetime


def _transition_action(data: dict[str, Any]) -> str:
    kind, to, frm = data.get("kind"), data.get("to_value"), data.get("from_value")
    if kind == "status":
        if to == "REJECTED":
            return "model_rejected"
        if to == "PENDING":
            return "version_created"
        if to == "VALIDATING":
            return "submitted_to_gate"
        if to == "PENDING_REVIEW":
            return "review_requested"
        if frm == "ARCHIVED":
            return "model_restored"
        return "status_changed"
    return {
        "stage": "stage_changed",
        "alias": "alias_moved",
        "deployment": "model_deployed",
        "metadata": "metadata_updated",
    }.get(str(kind), "transitioned")


def _failed_checks(data: dict[str, Any]) -> str | None:
    failed = [
        f"{c.get('name')}: {c.get('detail', '')}"
        for c in data.get("checks", [])
        if c.get("status") == "failed"
    ]
    return "; ".join(failed)[:4000] or None


def describe(event: dict[str, Any]) -> Described:
    kind = str(event.get("type", "")).removeprefix(TYPE_PREFIX).rsplit(".v", 1)[0]
    data: dict[str, Any] = event.get("data") or {}
    common: dict[str, Any] = {
        "subject": event.get("subject"),
        "from_stage": None,
        "to_stage": None,
        "approver": None,
        "reason": None,
        "event_time": _TIME.validate_python(event["time"]),
    }
    if kind == "submitted":
        return Described(
            **common,
            model=data.get("name"),
            version=data.get("version"),
            action="model_submitted",
            actor=data.get("submitter"),
        )
    if kind == "validated":
        submission = data.get("submission") or {}
        passed = data.get("verdict") == "passed"
        return Described(
            **{**common, "reason": None if passed else _failed_checks(data)},
            model=submission.get("name"),
            version=submission.get("version"),
            action="validation_passed" if passed else "validation_failed",
            actor=VALIDATOR,
        )
    model, version, actor = data.get("name"), data.get("version"), data.get("actor")
    if kind == "registered":
        # `approver`: the admin who approved it in review, or `auto-approval:<rule>`.
        return Described(
            **{
                **common,
                "to_stage": data.get("stage"),
                "approver": data.get("approver"),
                "reason": data.get("reason") or None,
            },
            model=model,
            version=version,
            action="model_registered",
            actor=actor,
        )
    if kind == "archived":
        return Described(
            **{**common, "reason": data.get("reason") or None},
            model=model,
            version=version,
            action="model_archived",
            actor=actor,
        )
    reason = data.get("reason") or None
    environment = data.get("environment")
    if data.get("kind") == "deployment":
        reason = f"deployed to {environment}" + (f": {reason}" if reason else "")
    elif data.get("kind") == "alias":
        reason = f"alias {environment}: {data.get('from_value')} -> {data.get('to_value')}" + (
            f" ({reason})" if reason else ""
        )
    stage = data.get("kind") == "stage"
    return Described(
        **{
            **common,
            "reason": reason,
            "from_stage": data.get("from_value") if stage else None,
            "to_stage": data.get("to_value") if stage else None,
            "approver": data.get("approver"),
        },
        model=model,
        version=version,
        action=_transition_action(data),
        actor=actor,
    )
