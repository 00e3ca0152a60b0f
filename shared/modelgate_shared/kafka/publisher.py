"""Publishing CloudEvents: keyed by model name, confirmed by the broker before returning."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from typing import Any
from uuid import UUID

from faststream.kafka import KafkaBroker
from pydantic import BaseModel

from modelgate_shared.events import CloudEvent, EventType, encode, new_event
from modelgate_shared.events.codec import kafka_headers
from modelgate_shared.signing import EventSigner
from modelgate_shared.telemetry.kafka import publish_span
from modelgate_shared.telemetry.metrics import EVENTS_PUBLISHED
from modelgate_shared.telemetry.tracing import tracing_enabled
from modelgate_shared.topics import Topics


class EventPublisher:
    def __init__(
        self,
        broker: KafkaBroker,
        topics: Topics,
        source: str,
        *,
        signer: EventSigner | None = None,
    ) -> None:
        self.broker = broker
        self.topics = topics
        self.source = source
        self.signer = signer
        """Signs every event `publish` makes (the service's own key), and what `publish_raw`
        is asked to sign. Otherwise `publish_raw` sends bytes as they are: dead letters keep
        their original signature, outbox rows were signed when written."""

    async def publish(
        self,
        kind: EventType,
        data: BaseModel,
        *,
        key: str,
        subject: str,
        headers: Mapping[str, str] | None = None,
        event_id: UUID | None = None,
    ) -> CloudEvent[Any]:
        event = new_event(kind, data, source=self.source, subject=subject, event_id=event_id)
        await self.publish_raw(
            self.topics.name(kind.topic),
            key=key.encode(),
            value=encode(event),
            headers={**kafka_headers(event), **(headers or {})},
            sign=True,
        )
        return event

    async def publish_raw(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes,
        headers: Mapping[str, str],
        parent_from_headers: bool = False,
        span_attributes: Mapping[str, str | int] | None = None,
        sign: bool = False,
    ) -> None:
        """Send bytes as they are and wait for the broker's acknowledgement. With tracing on,
        in a `<topic> publish` span whose `traceparent` the record carries; that span is the
        current span's child, or with `parent_from_headers` the child of the span the given
        `traceparent` names (an outbox row carries its writer's), with `span_attributes`.
        With `sign`, `value` is an event of this service's own: signed with its key."""
        sent = dict(headers)
        if sign and self.signer is not None:
            sent.update(self.signer.headers(value))
        span = (
            publish_span(
                topic,
                key,
                sent,
                parent_from_headers=parent_from_headers,
                attributes=span_attributes,
            )
            if tracing_enabled()
            else nullcontext()
        )
        with span:
            await self.broker.publish(value, topic, key=key, headers=sent)
        EVENTS_PUBLISHED.labels(topic).inc()
