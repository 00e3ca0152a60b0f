"""What the audit service does with every model.* event: append it to the chain, once."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial

from prometheus_client import Counter

from modelgate_audit.appender import AuditLog, event_json
from modelgate_shared.kafka.consumer import Received
from modelgate_shared.telemetry.tracing import tracer

APPENDED = Counter(
    "modelgate_audit_entries_appended_total",
    "Events appended to the audit chain (a redelivered event is not counted again)",
)


class AuditHandler:
    def __init__(self, log: AuditLog, topic_prefix: str) -> None:
        self.log = log
        self.topic_prefix = topic_prefix

    async def __call__(self, batch: Sequence[Received]) -> None:
        began = time.time_ns()
        appended = await self.log.append(
            [
                (
                    item.record.topic.removeprefix(self.topic_prefix),
                    event_json(
                        item.document,
                        partial(item.event.model_dump, mode="json", exclude_none=True),
                    ),
                )
                for item in batch
            ]
        )
        ended = time.time_ns()
        APPENDED.inc(len(appended))
        # The whole batch is one transaction, so each event's "audit append" span is that
        # transaction's time, recorded in the event's own trace once it has committed.
        for item in batch:
            if item.span is None:
                continue
            with item.traced():
                seq = appended.get(item.event.id)
                tracer().start_span(
                    "audit append",
                    start_time=began,
                    attributes={
                        "modelgate.audit.seq": seq if seq is not None else -1,
                        "modelgate.audit.redelivered": seq is None,
                        "modelgate.audit.batch_size": len(batch),
                    },
                ).end(end_time=ended)
