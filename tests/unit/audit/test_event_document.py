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
    value = json.dumps(raw).encode()
    _, document = decode_document(value)
    assert document is not None
    assert event_json(value, _dumped, document) == raw
    assert event_json(value, _dumped) == raw  # parsed here when the codec's is not given


def test_a_document_without_specversion_is_logged_as_decoded() -> None:
    """The envelope fills in a missing `specversion`; the log then keeps the decoded event,
    whether the document comes parsed or not."""
    raw = json.loads(encode(new_event(SUBMITTED, submitted("m"), source="/t", subject="m/1")))
    del raw["specversion"]
    value = json.dumps(raw).encode()
    event, document = decode_document(value)
    assert event.specversion == "1.0"
    assert event_json(value, _dumped, document) == {"dumped": True}
    assert event_json(value, _dumped) == {"dumped": True}
