"""What the registry does with the gate's events: record submissions, apply verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from prometheus_client import Counter

from modelgate_registry.lifecycle import Registry, trace_of
from modelgate_registry.store import history
from modelgate_registry.store.deferred import deferred_writes
from modelgate_shared.events import (
    SUBMITTED,
    VALIDATED,
    ModelSubmitted,
    ModelValidated,
    VersionStatus,
)
from modelgate_shared.kafka.consumer import Received
from modelgate_shared.telemetry.metrics import STAGE_DURATION, exemplar

CONSUMER = "registry"
DECISIONS = Counter(
    "modelgate_gate_decisions_total",
    "Submissions the gate decided, by status (REGISTERED, REJECTED)",
    ["status"],
)


def _model_name(item: Received) -> str:
    data = item.event.data
    if isinstance(data, ModelValidated):
        return data.submission.name
    assert isinstance(data, ModelSubmitted)
    return data.name


class GateHandler:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    async def __call__(self, batch: Sequence[Received]) -> None:
        # One transaction per batch. Sorting by model name (stable: one model's events keep
        # their order) makes every batch lock model rows in the same order, so the submitted
        # and validated consumers, running side by side, cannot deadlock each other.
        decided: list[tuple[VersionStatus, datetime, dict[str, str] | None]] = []
        async with self.registry.transaction() as conn, deferred_writes(conn):
            # History and outbox rows are inserted together at the end of the batch, still in
            # its transaction (store/deferred.py).
            new = await history.first_times(conn, CONSUMER, [i.event.id for i in batch])
            for item in sorted(batch, key=_model_name):
                if item.event.id not in new:
                    continue  # redelivered: its effects are already committed
                # The event's process span is current, so the events this one causes are
                # written to the outbox with it as their parent.
                with item.traced():
                    headers = trace_of(item.headers)
                    if item.event.type == SUBMITTED.type:
                        assert isinstance(item.event.data, ModelSubmitted)
                        await self.registry.on_submitted(conn, item.event.data, headers)
                    elif item.event.type == VALIDATED.type:
                        data = item.event.data
                        assert isinstance(data, ModelValidated)
                        status = await self.registry.on_validated(conn, data, headers)
                        if status is not None:
                            decided.append((status, data.submission.submitted_at, exemplar()))
        now = datetime.now(UTC)
        for status, submitted_at, trace_link in decided:  # committed: count each decision once
            DECISIONS.labels(status.value).inc()
            since = submitted_at if submitted_at.tzinfo else submitted_at.replace(tzinfo=UTC)
            STAGE_DURATION.labels("registry.decide").observe(
                max(0.0, (now - since).total_seconds()), trace_link
            )
