"""Audit entries read like the seeds' example; the chain links each entry to the last."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from modelgate_audit.appender import row_for
from modelgate_audit.canonical import canonical_bytes, entry_document
from modelgate_audit.entries import describe
from modelgate_audit.hash_chain import GENESIS, link
from modelgate_shared.events import SUBMITTED, TRANSITIONED, ModelTransitioned, encode, new_event
from modelgate_testkit.factories import submitted

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _json(event: object) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(encode(event))  # type: ignore[arg-type]
    return loaded


def test_a_promotion_reads_like_the_seeds_audit_entry() -> None:
    data = ModelTransitioned(
        model_id=1,
        version_id=2,
        name="credit-approval",
        version="1.0.0",
        actor="john_doe",
        sequence=7,
        occurred_at=NOW,
        kind="stage",
        from_value="staging",
        to_value="production",
        reason="Performance improvement",
        approver="jane_smith",
    )
    event = _json(new_event(TRANSITIONED, data, source="/t", subject="credit-approval/1.0.0"))
    said = describe(event)
    assert said.action == "stage_changed"
    assert (said.model, said.version) == ("credit-approval", "1.0.0")
    assert said.actor == "john_doe"
    assert (said.from_stage, said.to_stage) == ("staging", "production")
    assert said.approver == "jane_smith"
    assert said.reason == "Performance improvement"


def test_a_submission_names_its_submitter() -> None:
    event = _json(
        new_event(
            SUBMITTED, submitted("m", submitter="ai-scientist"), source="/t", subject="m/1.0.0"
        )
    )
    said = describe(event)
    assert said.action == "model_submitted"
    assert said.actor == "ai-scientist"


def test_canonical_bytes_are_key_order_independent() -> None:
    a = canonical_bytes({"b": 1, "a": {"y": [1, 2], "x": "é"}})
    b = canonical_bytes({"a": {"x": "é", "y": [1, 2]}, "b": 1})
    assert a == b == '{"a":{"x":"é","y":[1,2]},"b":1}'.encode()


def test_each_row_hashes_the_previous_hash_and_its_bytes() -> None:
    event = _json(new_event(SUBMITTED, submitted("m"), source="/t", subject="m/1.0.0"))
    first = row_for(1, GENESIS, "model.submitted", event, NOW)
    canonical = first[15]
    assert canonical == canonical_bytes(entry_document(1, NOW, "model.submitted", event))
    assert first[-1] == hashlib.sha256(GENESIS + canonical).digest() == link(GENESIS, canonical)
    second = row_for(2, first[-1], "model.submitted", event, NOW)
    assert second[16] == first[-1], "prev_hash is the previous entry's hash"
    assert second[-1] != first[-1]
