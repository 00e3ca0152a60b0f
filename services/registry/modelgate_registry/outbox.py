"""Writing events to the outbox inside the transaction that changes the state.

The caller holds the model's row lock (see `store.models.lock`), so one model's outbox rows
get ids in commit order, and the relay, publishing in id order, keeps each model's events in
order on Kafka.

Each row keeps the trace context of the transaction that wrote it (`traceparent` in its
headers): the current span when tracing is on (a consumed event's process span, or an HTTP
request's), otherwise the trace headers the caller passes on from the event that caused it.
The relay publishes the row within that context, so registry events continue the trace.

Each row is signed when written, with the registry's key (its `mg-signature` and `mg-key-id`
in the stored headers), not when relayed: the relay then sends stored bytes as they are and
needs no key, and a row put into the table by anyone who can write the database but does not
hold the key goes out unsigned or wrongly signed, and every consumer dead-letters it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from modelgate_registry.store.deferred import deferred
from modelgate_shared.db.pool import Connection
from modelgate_shared.events import CloudEvent, EventType, encode, new_event
from modelgate_shared.events.codec import kafka_headers
from modelgate_shared.signing import EventSigner
from modelgate_shared.telemetry import current_trace_headers
from modelgate_shared.topics import Topics


class Outbox:
    def __init__(
        self,
        topics: Topics,
        source: str = "/modelgate/registry",
        *,
        signer: EventSigner | None = None,
    ) -> None:
        self.topics = topics
        self.source = source
        self.signer = signer

    async def add(
        self,
        conn: Connection,
        kind: EventType,
        data: BaseModel,
        *,
        key: str,
        subject: str,
        headers: Mapping[str, str] | None = None,
    ) -> CloudEvent[Any]:
        event = new_event(kind, data, source=self.source, subject=subject)
        payload = encode(event)
        signature = self.signer.headers(payload) if self.signer is not None else {}
        row = (
            event.id,
            self.topics.name(kind.topic),
            key.encode(),
            payload,
            {**kafka_headers(event), **(current_trace_headers() or headers or {}), **signature},
        )
        batch = deferred(conn)
        if batch is not None:  # a consumer's batch: inserted with the batch's others at its end
            batch.outbox.append(row)
            return event
        await conn.execute(
            "INSERT INTO registry.outbox (event_id, topic, key, payload, headers) "
            "VALUES ($1, $2, $3, $4, $5)",
            *row,
        )
        return event
