"""What the registry does with the gate's events: record submissions, apply verdicts."""

from __future__ import annotations

from collections.abc import Sequence

from modelgate_registry.lifecycle import Registry, trace_of
from modelgate_registry.store import history
from modelgate_shared.events import SUBMITTED, VALIDATED, ModelSubmitted, ModelValidated
from modelgate_shared.kafka.consumer import Received

CONSUMER = "registry"


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
        async with self.registry.transaction() as conn:
            new = await history.first_times(conn, CONSUMER, [i.event.id for i in batch])
            for item in sorted(batch, key=_model_name):
                if item.event.id not in new:
                    continue  # redelivered: its effects are already committed
                headers = trace_of(item.headers)
                if item.event.type == SUBMITTED.type:
                    assert isinstance(item.event.data, ModelSubmitted)
                    await self.registry.on_submitted(conn, item.event.data, headers)
                elif item.event.type == VALIDATED.type:
                    assert isinstance(item.event.data, ModelValidated)
                    await self.registry.on_validated(conn, item.event.data, headers)
