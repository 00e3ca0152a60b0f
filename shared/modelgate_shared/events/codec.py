"""Bytes on Kafka <-> typed CloudEvents, and the reasons a message is refused.

Structured mode (`content-type: application/cloudevents+json`) is what we produce. Binary mode
(`ce_*` headers, the data as value) is accepted too, as CloudEvents' Kafka binding allows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ValidationError

from modelgate_shared.events.catalog import EVENT_TYPES, EventType
from modelgate_shared.events.envelope import CONTENT_TYPE, CloudEvent

MAX_EVENT_BYTES = 1024 * 1024
Headers = Sequence[tuple[str, bytes]]


class PoisonMessage(Exception):
    """A message no retry can make processable: it goes to the dead-letter topic."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def encode(event: CloudEvent[Any]) -> bytes:
    return event.model_dump_json(exclude_none=True).encode()


def kafka_headers(event: CloudEvent[Any]) -> dict[str, str]:
    return headers_for(event.type, event.id)


def headers_for(type_name: str, event_id: UUID) -> dict[str, str]:
    """Kafka headers of a structured-mode event: content type, plus type and id so tools can
    route or count without parsing the value."""
    return {"content-type": CONTENT_TYPE, "ce_type": type_name, "ce_id": str(event_id)}


def _describe(error: ValidationError, limit: int = 5) -> str:
    parts = []
    for item in error.errors()[:limit]:
        where = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{where}: {item['msg']}")
    more = len(error.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def is_binary_mode(headers: Headers) -> bool:
    """Whether a record is a binary-mode CloudEvent (attributes in `ce_*` headers)."""
    return any(k == "ce_specversion" for k, _ in headers)


def _binary_mode(value: bytes, headers: Headers) -> dict[str, Any] | None:
    if not is_binary_mode(headers):
        return None
    attrs = {k[3:]: v.decode("utf-8", "replace") for k, v in headers if k.startswith("ce_")}
    try:
        attrs["data"] = _strict_json(value)
    except (ValueError, RecursionError) as exc:
        raise PoisonMessage(f"binary-mode data is not JSON: {_json_error(exc)}") from exc
    return attrs


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


_STRICT_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
"""Made once: `json.loads` with a keyword builds a new decoder on every call."""


def _strict_json(value: bytes) -> Any:
    """JSON as RFC 8259 defines it: Python's parser also takes NaN and Infinity, which no
    other producer writes and no field of the contract means."""
    # Decoded as `json.loads` decodes bytes (RFC 8259's UTF-8, or a UTF-16/32 it detects).
    return _STRICT_DECODER.decode(value.decode(json.detect_encoding(value), "surrogatepass"))


def _json_error(exc: ValueError | RecursionError) -> str:
    # json.loads recurses per nesting level: a value nested about a thousand deep (a few KB
    # of brackets) raises RecursionError, which must be a refusal like any other bad JSON,
    # not an error that stops the consumer's whole batch.
    return "nested too deep" if isinstance(exc, RecursionError) else str(exc)


def decode(
    value: bytes | None, headers: Headers = (), *, expect: Sequence[EventType] | None = None
) -> CloudEvent[Any]:
    """Decode and validate one Kafka message, or raise PoisonMessage with the reason."""
    return decode_document(value, headers, expect=expect)[0]


def decode_document(
    value: bytes | None, headers: Headers = (), *, expect: Sequence[EventType] | None = None
) -> tuple[CloudEvent[Any], dict[str, Any] | None]:
    """`decode`, and the JSON document of a structured-mode event as parsed (unknown fields
    included; None in binary mode): what the audit log keeps, without parsing it again."""
    if value is None:
        raise PoisonMessage("empty message (tombstone or null value)")
    if len(value) > MAX_EVENT_BYTES:
        raise PoisonMessage(f"event of {len(value)} bytes exceeds the {MAX_EVENT_BYTES}-byte limit")
    raw = _binary_mode(value, headers)
    structured = raw is None
    if raw is None:
        try:
            raw = _strict_json(value)
        except (ValueError, RecursionError) as exc:
            raise PoisonMessage(f"not a JSON CloudEvent: {_json_error(exc)}") from exc
    if not isinstance(raw, dict):
        raise PoisonMessage(f"a CloudEvent is a JSON object, got {type(raw).__name__}")
    type_name = raw.get("type")
    kind = EVENT_TYPES.get(type_name) if isinstance(type_name, str) else None
    if kind is None:
        raise PoisonMessage(f"unknown event type {type_name!r}")
    if expect is not None and kind not in expect:
        wanted = ", ".join(e.type for e in expect)
        raise PoisonMessage(f"event type {kind.type} does not belong on this topic ({wanted})")
    try:
        return kind.envelope.model_validate(raw), raw if structured else None
    except ValidationError as exc:
        raise PoisonMessage(f"{kind.type} does not match its schema: {_describe(exc)}") from exc


def new_event(
    kind: EventType,
    data: BaseModel,
    *,
    source: str,
    subject: str,
    event_id: UUID | None = None,
) -> CloudEvent[Any]:
    """A new event; pass `event_id` when a retry must produce the very same event."""
    extra = {"id": event_id} if event_id is not None else {}
    return kind.envelope(
        source=source,
        type=kind.type,
        subject=subject,
        dataschema=kind.dataschema,
        data=data,
        **extra,
    )
