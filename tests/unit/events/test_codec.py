"""The event contract: round trips, refusals with reasons, evolution rules."""

from __future__ import annotations

import json

import pytest

from modelgate_shared.events import (
    SUBMITTED,
    VALIDATED,
    ModelSubmitted,
    PoisonMessage,
    decode,
    encode,
    new_event,
)
from modelgate_shared.events.codec import MAX_EVENT_BYTES, kafka_headers
from modelgate_testkit.factories import submitted


def _event_json() -> dict[str, object]:
    event = new_event(SUBMITTED, submitted(), source="/test", subject="tiny-model/1.0.0")
    loaded: dict[str, object] = json.loads(encode(event))
    return loaded


def test_structured_mode_round_trip() -> None:
    data = submitted()
    event = new_event(SUBMITTED, data, source="/test", subject="tiny-model/1.0.0")
    headers = [(k, v.encode()) for k, v in kafka_headers(event).items()]
    back = decode(encode(event), headers)
    assert back.id == event.id
    assert back.type == "io.modelgate.model.submitted.v1"
    assert back.dataschema == SUBMITTED.dataschema
    assert isinstance(back.data, ModelSubmitted)
    assert back.data == data


def test_binary_mode_is_accepted() -> None:
    raw = _event_json()
    data = json.dumps(raw.pop("data")).encode()
    headers = [(f"ce_{k}", str(v).encode()) for k, v in raw.items()]
    back = decode(data, headers)
    assert isinstance(back.data, ModelSubmitted)


def test_unknown_fields_are_ignored() -> None:
    raw = _event_json()
    raw["futureattribute"] = "x"
    assert isinstance(raw["data"], dict)
    raw["data"]["added_in_a_later_minor"] = {"anything": 1}
    assert isinstance(decode(json.dumps(raw).encode()).data, ModelSubmitted)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"\xff\xfe garbage", "not a JSON CloudEvent"),
        (b"[1, 2]", "a CloudEvent is a JSON object"),
        (b'{"type": "io.example.other.v1"}', "unknown event type 'io.example.other.v1'"),
        (None, "empty message"),
    ],
)
def test_undecodable_messages_say_why(value: bytes | None, reason: str) -> None:
    with pytest.raises(PoisonMessage, match=reason):
        decode(value)


def test_json_nested_too_deep_is_refused_not_raised() -> None:
    # Found by the consumer fuzzing: json.loads raised RecursionError, which is no
    # PoisonMessage, so the consumer dropped the record's whole batch (valid events too)
    # with a traceback instead of dead-lettering the one record.
    event = encode(new_event(SUBMITTED, submitted(), source="/test", subject="tiny-model/1.0.0"))
    nested = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(PoisonMessage, match="not a JSON CloudEvent: nested too deep"):
        decode(b'{"deep":' + nested + b"," + event[1:])
    binary = [("ce_specversion", b"1.0"), ("ce_type", SUBMITTED.type.encode())]
    with pytest.raises(PoisonMessage, match="binary-mode data is not JSON: nested too deep"):
        decode(nested, binary)


def test_wrong_schema_names_the_field() -> None:
    raw = _event_json()
    assert isinstance(raw["data"], dict)
    del raw["data"]["artifact"]
    with pytest.raises(PoisonMessage, match=r"data\.artifact: Field required"):
        decode(json.dumps(raw).encode())


def test_path_traversal_in_an_artifact_file_is_refused() -> None:
    raw = _event_json()
    assert isinstance(raw["data"], dict)
    raw["data"]["artifact"]["files"][0]["path"] = "../../etc/passwd"
    with pytest.raises(PoisonMessage, match=r"must not contain '\.\.'"):
        decode(json.dumps(raw).encode())


def test_oversized_events_are_refused() -> None:
    with pytest.raises(PoisonMessage, match="exceeds the 1048576-byte limit"):
        decode(b" " * (MAX_EVENT_BYTES + 1))


def test_an_event_on_the_wrong_topic_is_refused() -> None:
    event = new_event(SUBMITTED, submitted(), source="/test", subject="tiny-model/1.0.0")
    with pytest.raises(PoisonMessage, match="does not belong on this topic"):
        decode(encode(event), expect=[VALIDATED])


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_json_numbers_are_refused(constant: bytes) -> None:
    # Python's json takes NaN and Infinity; the contract is RFC 8259 JSON (the consumer
    # fuzzing saw such events pass decoding and fail later in a handler).
    event = encode(new_event(SUBMITTED, submitted(), source="/test", subject="tiny-model/1.0.0"))
    with pytest.raises(PoisonMessage, match="is not JSON"):
        decode(b'{"x":' + constant + b"," + event[1:])
