"""What a handler receives: decoded, signer-proven events beside their Kafka records.

Also the two FastStream hooks that hand us the raw records of a batch untouched, so that
each record is decoded (or dead-lettered) on its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from faststream.kafka.message import FAKE_CONSUMER
from faststream.kafka.message import KafkaMessage as KafkaMessageClass

from modelgate_shared.events import CloudEvent, EventType
from modelgate_shared.events.codec import decode_document
from modelgate_shared.kafka.record import Record
from modelgate_shared.signing import EventVerifier, Proven
from modelgate_shared.telemetry.kafka import ProcessSpan


@dataclass(frozen=True, slots=True)
class Received:
    """A decoded event and the Kafka record it came in."""

    event: CloudEvent[Any]
    record: Record
    span: ProcessSpan | None = None
    """This record's process span (None when tracing is off)."""
    proven: Proven | None = None
    """Who signed the event (None only where a test hands events to a handler directly)."""
    document: dict[str, Any] | None = None
    """The structured-mode CloudEvent JSON as parsed, unknown fields included (None in
    binary mode, or where a test hands events to a handler directly)."""

    @property
    def headers(self) -> dict[str, str]:
        return {k: v.decode("utf-8", "replace") for k, v in self.record.headers or ()}

    def traced(self) -> AbstractContextManager[object]:
        """Make this event's process span current: queries, S3 calls and publishes made
        inside belong to the event's trace (publishes carry it on)."""
        return self.span.current() if self.span is not None else nullcontext()


class Rejected(Exception):
    """Raised by a handler for an event it can never process; it becomes a dead letter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Handler = Callable[[Sequence[Received]], Awaitable[None]]


async def receive(
    record: Record,
    verifier: EventVerifier,
    expect: Sequence[EventType] | None,
    span: ProcessSpan | None,
) -> Received:
    """Decode `record` and prove who signed it; raises `PoisonMessage` for one that is
    undecodable, of a type not expected on its topic, or not proven."""
    event, document = decode_document(record.value, record.headers, expect=expect)
    proven = await verifier.prove(record.value or b"", record.headers or (), event)
    return Received(event, record, span, proven, document)


async def keep_records(records: tuple[Record, ...]) -> KafkaMessageClass:
    """FastStream's parser decodes every header as UTF-8 and would drop the whole batch on a
    single bad header; we keep the raw records and decode (or dead-letter) each ourselves."""
    return KafkaMessageClass(body=b"", headers={}, raw_message=records, consumer=FAKE_CONSUMER)


async def records_as_body(message: KafkaMessageClass) -> Any:
    """The batch's records, as the body FastStream hands the subscriber's function: a plain
    argument, where asking for the message or the consumer by annotation (`Context`) made
    FastStream resolve each in a worker thread, a thread hop per batch."""
    return message.raw_message
