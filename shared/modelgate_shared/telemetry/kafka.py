"""Kafka spans: FastStream's middleware for publishing, our own per-record process spans.

FastStream's `KafkaTelemetryMiddleware` makes a `<topic> create` and a `<topic> publish` span
for every send and writes the create span's `traceparent` into the message headers. Its
consuming side would make one span per *batch* in a trace of its own, while our consumer
handles each partition's records in a task of its own; so on the consuming side it steps
aside, and `ProcessSpan` gives each record a `<topic> process` span whose parent is that
record's `traceparent`, a direct producer's as well as ours.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.opentelemetry.provider import KafkaTelemetrySettingsProvider
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider

from modelgate_shared.kafka.record import Record
from modelgate_shared.telemetry.tracing import TRACE_HEADERS, context_from, tracer


def _publishing_only(msg: Any) -> KafkaTelemetrySettingsProvider | None:
    # Publishing builds the middleware with no message; consuming passes the raw batch.
    return KafkaTelemetrySettingsProvider() if msg is None else None


class PublishTelemetryMiddleware(KafkaTelemetryMiddleware):
    """FastStream's Kafka telemetry, for publishing only (see the module's docstring)."""

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        super().__init__(tracer_provider=tracer_provider, include_messages_counters=False)
        self._settings_provider_factory = _publishing_only


class ProcessSpan:
    """The `<topic> process` span of one consumed record, parented by its `traceparent`."""

    def __init__(self, record: Record, group: str) -> None:
        headers = {
            k: v.decode("utf-8", "replace") for k, v in record.headers or () if k in TRACE_HEADERS
        }
        self.span: Span = tracer().start_span(
            f"{record.topic} process",
            context=context_from(headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": record.topic,
                "messaging.destination.partition.id": str(record.partition),
                "messaging.kafka.offset": record.offset,
                "messaging.consumer.group.name": group,
            },
        )
        self._ended = False

    @contextmanager
    def current(self) -> Iterator[Span]:
        """Make this span the current one: what runs inside belongs to the record's trace."""
        with trace.use_span(self.span, end_on_exit=False, record_exception=False):
            yield self.span

    def event(self, name: str, **attributes: str | int) -> None:
        self.span.add_event(name, attributes)

    def fail(self, reason: str) -> None:
        self.span.set_status(Status(StatusCode.ERROR, reason[:500]))

    def end(self) -> None:
        if not self._ended:
            self._ended = True
            self.span.end()
