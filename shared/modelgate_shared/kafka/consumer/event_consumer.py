"""The consumer itself: each partition's batch in a task of its own, committed when done.

Per partition, in offset order: decode each record and prove who signed it (undecodable or
unproven ones become dead letters), hand the decoded events to the service's handler
(`failures.py` retries and isolates), and commit that partition's offset only after the
handler returned (`offsets.py`).

The partition stays paused while its task runs: the poll loop goes on at once (heartbeats,
other partitions), so a handler may take minutes (a benchmark) without the group ever
thinking this member is gone. When the task is done the partition is resumed. On shutdown
work in flight is drained like on a rebalance (`rebalance.py`): awaited, then cancelled.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from prometheus_client import Counter

from modelgate_shared.events import PoisonMessage
from modelgate_shared.kafka.consumer.config import ConsumerConfig
from modelgate_shared.kafka.consumer.failures import Failures
from modelgate_shared.kafka.consumer.offsets import Offsets
from modelgate_shared.kafka.consumer.rebalance import OnRebalance
from modelgate_shared.kafka.consumer.received import (
    Handler,
    Received,
    keep_records,
    receive,
    records_as_body,
)
from modelgate_shared.kafka.consumer.watchdog import Watchdog
from modelgate_shared.kafka.dead_letters import DeadLetters
from modelgate_shared.kafka.record import Record
from modelgate_shared.signing import EventVerifier
from modelgate_shared.telemetry.kafka import ProcessSpan
from modelgate_shared.telemetry.metrics import EVENT_LATENCY, HANDLER_DURATION, exemplar
from modelgate_shared.telemetry.tracing import tracing_enabled

log = logging.getLogger(__name__)

CONSUMED = Counter("modelgate_events_consumed_total", "Events handled", ["group", "topic"])
# Each (group, topic) child looked up once, not three times per batch (`labels()` locks).
_consumed = functools.cache(CONSUMED.labels)
_handler_duration = functools.cache(HANDLER_DURATION.labels)
_event_latency = functools.cache(EVENT_LATENCY.labels)


class EventConsumer:
    def __init__(
        self,
        broker: KafkaBroker,
        config: ConsumerConfig,
        handler: Handler,
        dead_letters: DeadLetters,
        *,
        verifier: EventVerifier,
    ) -> None:
        self.broker = broker
        self.config = config
        self.verifier = verifier
        """Required: no consumer hands its handler an event whose signer is not proven."""
        self.failures = Failures(config, handler, dead_letters)
        self.health = self.failures.health
        self.offsets = Offsets(config)
        self.watchdog = Watchdog(self)
        self.in_flight: dict[TopicPartition, asyncio.Task[None]] = {}
        self.closing = False
        self.subscriber: Any = None

    def attach(self) -> None:
        """Register the batch subscriber on the broker (before the broker starts)."""
        subscriber = self.broker.subscriber(
            *self.config.topics,
            group_id=self.config.group_id,
            batch=True,
            max_records=self.config.max_records,
            batch_timeout_ms=self.config.batch_timeout_ms,
            max_poll_interval_ms=self.config.max_poll_interval_ms,
            session_timeout_ms=self.config.session_timeout_ms,
            listener=OnRebalance(self),
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            parser=keep_records,
            decoder=records_as_body,
        )

        async def on_batch(records: Any) -> None:
            await self.process(records, subscriber.consumer)

        subscriber(on_batch)
        self.subscriber = subscriber
        self.watchdog.start()

    async def process(self, records: Sequence[Record], consumer: AIOKafkaConsumer) -> None:
        """Start each partition's batch in its own task, the partition paused meanwhile."""
        if self.closing:
            return  # not committed: whoever consumes next gets these records again
        self.watchdog.progressed()
        by_partition: dict[TopicPartition, list[Record]] = defaultdict(list)
        for record in records:
            by_partition[TopicPartition(record.topic, record.partition)].append(record)
        for tp, batch in by_partition.items():
            earlier = self.in_flight.get(tp)
            if earlier is not None:  # not expected (paused), but order comes first
                await asyncio.wait([earlier])
            consumer.pause(tp)
            self.in_flight[tp] = asyncio.create_task(
                self._run_partition(tp, batch, consumer), name=f"consume {tp.topic}[{tp.partition}]"
            )

    async def finish(self, partitions: Collection[TopicPartition], timeout_s: float) -> None:
        """Let in-flight work on `partitions` end (committing), cancelling what outlasts
        `timeout_s`: a cancelled batch is not committed and will be consumed again."""
        tasks = [self.in_flight[tp] for tp in partitions if tp in self.in_flight]
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=timeout_s)
        for task in late:
            log.warning("cancelling %s: still running after %.0fs", task.get_name(), timeout_s)
            task.cancel()
        if late:
            await asyncio.wait(late)

    async def drain(self, timeout_s: float = 15.0) -> None:
        """At shutdown, before the broker stops: take no new batch, finish (or cancel) the
        ones in flight so that what is done is committed."""
        self.closing = True
        await self.watchdog.stop()
        await self.finish(list(self.in_flight), timeout_s)

    async def _run_partition(
        self, tp: TopicPartition, batch: list[Record], consumer: AIOKafkaConsumer
    ) -> None:
        try:
            await self._partition(tp, batch, consumer)
        except Exception:
            log.exception("processing %s stopped; its events will be redelivered", tp)
        finally:
            self.in_flight.pop(tp, None)
            if tp in consumer.assignment():
                consumer.resume(tp)

    async def _partition(
        self, tp: TopicPartition, records: list[Record], consumer: AIOKafkaConsumer
    ) -> None:
        traced = self.config.trace_records and tracing_enabled()
        expect = self.config.expect.get(tp.topic)
        received: list[Received] = []
        try:
            for record in records:
                span = ProcessSpan(record, self.config.group_id) if traced else None
                try:
                    # Proving may need a dependency (the OIDC provider): retried while away.
                    received.append(
                        await self.failures.retrying(
                            lambda record=record, span=span: receive(  # type: ignore[misc]
                                record, self.verifier, expect, span
                            )
                        )
                    )
                except PoisonMessage as poison:
                    await self.failures.dead_letter(record, poison.reason, span)
            if received:
                began = time.perf_counter()
                await self.failures.handle(received)
                _handler_duration(self.config.group_id, tp.topic).observe(
                    time.perf_counter() - began
                )
                _consumed(self.config.group_id, tp.topic).inc(len(received))
            if await self.offsets.commit(consumer, tp, records[-1].offset + 1):
                self.watchdog.progressed()
        finally:
            for item in received:
                if item.span is not None:
                    item.span.end()
        latency = _event_latency(self.config.group_id, tp.topic)
        now_ms = time.time() * 1000
        for item in received:
            latency.observe(
                max(0.0, now_ms - item.record.timestamp) / 1000,
                exemplar(item.span.span) if item.span is not None else None,
            )
