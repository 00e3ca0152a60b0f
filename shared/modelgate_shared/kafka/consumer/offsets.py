"""The offsets this consumer commits: exact per partition, each commit bounded in time, and
the lag behind them (end offset minus committed) measured for Prometheus.

FastStream's own acknowledgement would commit everything the consumer fetched; we commit
exact per-partition offsets ourselves instead (AckPolicy.MANUAL, never `msg.ack()`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Collection

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from prometheus_client import Counter

from modelgate_shared.kafka.consumer.config import ConsumerConfig
from modelgate_shared.telemetry.metrics import CONSUMER_LAG

log = logging.getLogger(__name__)

COMMITS_ABANDONED = Counter(
    "modelgate_commits_abandoned_total", "Offset commits given up after every attempt", ["group"]
)


class Offsets:
    def __init__(self, config: ConsumerConfig) -> None:
        self.config = config
        self.committed: dict[TopicPartition, int] = {}
        """What this consumer committed, or learnt from Kafka, per assigned partition."""
        self.failing_since: float | None = None
        """When the first of the commits failing now began (None: the last one worked)."""

    async def commit(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> bool:
        """Commit `offset` for `tp`, each attempt bounded in time; True when Kafka took it.
        Giving up is safe: the partition goes on from the consumer's position, the next
        batch's commit covers this one, and if none comes these events are redelivered to
        idempotent handlers."""
        began = time.monotonic()
        for attempt in range(self.config.commit_attempts):
            try:
                await asyncio.wait_for(
                    consumer.commit({tp: offset}), timeout=self.config.commit_timeout_s
                )
                self.committed[tp] = offset
                self.failing_since = None
                return True
            except CommitFailedError as exc:
                # The partition moved to another member during a rebalance: it will redo
                # these events from the last commit, and our handlers are idempotent.
                log.warning("commit of %s@%d refused after a rebalance: %s", tp, offset, exc)
                return False
            except (KafkaError, TimeoutError) as exc:
                if self.failing_since is None:
                    self.failing_since = began
                reason = str(exc) or f"no answer in {self.config.commit_timeout_s:g}s"
                log.warning("commit of %s@%d failed (attempt %d): %s", tp, offset, attempt, reason)
                await asyncio.sleep(0.5 * (attempt + 1))
        COMMITS_ABANDONED.labels(self.config.group_id).inc()
        log.error("giving up committing %s@%d; the next commit covers these events", tp, offset)
        return False

    def forget(self, partitions: Collection[TopicPartition]) -> None:
        """Partitions no longer ours: whoever gets them next commits; if they come back,
        what was committed is asked of Kafka again."""
        for tp in partitions:
            self.committed.pop(tp, None)

    def reset(self) -> None:
        """A new Kafka client: nothing known, nothing failing."""
        self.committed.clear()
        self.failing_since = None

    async def measure_lag(self, consumer: AIOKafkaConsumer) -> int:
        """Set the lag gauges of the assigned partitions; returns their total."""
        group = self.config.group_id
        assigned = set(consumer.assignment())
        for tp in [tp for tp in self.committed if tp not in assigned]:
            del self.committed[tp]
            with contextlib.suppress(KeyError):
                CONSUMER_LAG.remove(group, tp.topic, str(tp.partition))
        if not assigned:
            return 0
        total = 0
        ends = await consumer.end_offsets(list(assigned))
        for tp in assigned:
            committed = self.committed.get(tp)
            if committed is None:
                committed = await consumer.committed(tp)
                if committed is None:  # nothing committed yet: all of it is lag
                    committed = (await consumer.beginning_offsets([tp]))[tp]
                self.committed[tp] = committed
            lag = max(0, ends[tp] - committed)
            CONSUMER_LAG.labels(group, tp.topic, str(tp.partition)).set(lag)
            total += lag
        return total
