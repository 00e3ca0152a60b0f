"""What the audit log keeps of an event: the document as received, else the decoded event."""

from __future__ import annotations

import json
from typing import Any

from modelgate_audit.appender import event_json
from modelgate_shared.events import SUBMITTED, encode, new_event
from modelgate_shared.events.codec import decode_document
from modelgate_testkit.factories import submitted


def _dumped() -> dict[str, Any]:
    return {"dumped": True}


def test_the_document_the_codec_parsed_is_kept_as_received_unknown_fields_included() -> None:
    raw = json.loads(encode(new_event(SUBMITTED, submitted("m"), source="/t", subject="m/1")))
    raw["x-extension"] = "kept"
    _, document = decode_document(json.dumps(raw).encode())
    assert event_json(document, _dumped) == raw


def test_a_document_without_specversion_is_logged_as_decoded() -> None:
    """The envelope fills in a missing `specversion`; the log then keeps the decoded event."""
    raw = json.loads(encode(new_event(SUBMITTED, submitted("m"), source="/t", subject="m/1")))
    del raw["specversion"]
    event, document = decode_document(json.dumps(raw).encode())
    assert event.specversion == "1.0"
    assert event_json(document, _dumped) == {"dumped": True}


def test_a_binary_mode_event_has_no_document_and_is_logged_as_decoded() -> None:
    sub = submitted("m")
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"4d3c1a4e-7a51-4c69-9d5c-3f0f7a7d8a01"),
        ("ce_source", b"/t"),
        ("ce_type", SUBMITTED.type.encode()),
        ("ce_subject", b"m/1"),
    ]
    # The data alone is the value; a "specversion" in it must not pass for the event.
    value = json.dumps({**json.loads(sub.model_dump_json()), "specversion": "1.0"}).encode()
    event, document = decode_document(value, headers)
    assert document is None
    assert event.data.name == "m"
    assert event_json(document, _dumped) == {"dumped": True}
