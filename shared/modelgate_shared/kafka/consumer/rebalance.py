"""Rebalances: work on revoked partitions is awaited for a bounded time, then cancelled (its
events are redone by the new owner, from the last commit)."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from aiokafka import ConsumerRebalanceListener, TopicPartition

if TYPE_CHECKING:
    from modelgate_shared.kafka.consumer.event_consumer import EventConsumer


class OnRebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: EventConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: Collection[TopicPartition]) -> None:
        await self.owner.finish(revoked, self.owner.config.revoke_wait_s)
        self.owner.offsets.forget(revoked)

    async def on_partitions_assigned(self, assigned: Collection[TopicPartition]) -> None:
        self.owner.watchdog.progressed()  # a (re)join is progress
