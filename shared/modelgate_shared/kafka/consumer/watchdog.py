"""The stall watchdog: every few seconds it measures the lag and replaces a wedged Kafka client.

Kafka clients can wedge after a broker restart (a commit retried forever, a poll that never
returns, group coordination ended by an unexpected error). A consumer whose coordination
ended, with lag that takes nothing for `stall_restart_s` while nothing is in flight, or whose
commits have failed that long, gets a new Kafka client, after logging a task dump.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer
from prometheus_client import Counter

from modelgate_shared.task_dump import dump_tasks

if TYPE_CHECKING:
    from modelgate_shared.kafka.consumer.event_consumer import EventConsumer

log = logging.getLogger(__name__)

RESTARTS = Counter(
    "modelgate_consumer_restarts_total", "Stalled Kafka consumers replaced", ["group"]
)


class Watchdog:
    def __init__(self, owner: EventConsumer) -> None:
        self.owner = owner
        self.config = owner.config
        self.last_progress = time.monotonic()
        """When a batch last arrived, an offset was committed or the group was (re)joined."""
        self._restart_owed = False
        self._task: asyncio.Task[None] | None = None

    def progressed(self) -> None:
        self.last_progress = time.monotonic()

    def start(self) -> None:
        """Watch from now on, if there is a running loop (without one: no lag metric)."""
        if self.config.lag_interval_s > 0:
            with contextlib.suppress(RuntimeError):
                self._task = asyncio.get_running_loop().create_task(
                    self._watch(), name=f"consumer watch {self.config.group_id}"
                )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self) -> None:
        interval = self.config.lag_interval_s
        while True:
            await asyncio.sleep(interval)
            if self._restart_owed:
                await self._restart(None)
                continue
            consumer: AIOKafkaConsumer | None = getattr(self.owner.subscriber, "consumer", None)
            if consumer is None:
                continue
            ended = coordination_failure(consumer)
            if ended is not None and self.config.stall_restart_s > 0 and not self.owner.closing:
                await self._restart(ended)  # at once: this client will never recover
                continue
            lag: int | None = None
            try:
                # Bounded: a wedged client must not wedge its own watchdog.
                lag = await asyncio.wait_for(
                    self.owner.offsets.measure_lag(consumer), max(interval, 5.0)
                )
            except Exception as exc:  # a metric is not worth a crash; try again later
                log.debug("measuring consumer lag failed: %r", exc)
            stall = self.stall(lag)
            if stall is not None:
                await self._restart(stall)

    def stall(self, lag: int | None) -> str | None:
        """Why this consumer counts as stalled, or None."""
        limit = self.config.stall_restart_s
        if limit <= 0 or self.owner.closing:
            return None
        now = time.monotonic()
        failing = self.owner.offsets.failing_since
        if failing is not None and now - failing > limit:
            return f"no offset commit has worked for {now - failing:.0f}s"
        idle = now - self.last_progress
        if lag and not self.owner.in_flight and idle > limit:
            return f"{lag} events waiting, none taken for {idle:.0f}s"
        return None

    async def _restart(self, stall: str | None) -> None:
        """Replace the subscriber's Kafka client: end the work in flight (what is cancelled
        is not committed), stop the client (bounded), and start a fresh one that joins the
        group and reads on from the committed offsets (redelivery is harmless: handlers are
        idempotent). A failed start is tried again at the next measurement."""
        group = self.config.group_id
        if stall is not None:
            log.error(
                "consumer of group %s stalled (%s); replacing its Kafka client (task dump follows)",
                group,
                stall,
            )
            dump_tasks()  # what the wedged client awaited: the clue for a fix
            RESTARTS.labels(group).inc()
        owner = self.owner
        await owner.finish(list(owner.in_flight), self.config.revoke_wait_s)
        try:
            await asyncio.wait_for(owner.subscriber.stop(), timeout=30)
        except Exception as exc:
            log.warning("stopping the stalled consumer of %s failed: %r", group, exc)
        owner.offsets.reset()
        self.progressed()
        try:
            await owner.subscriber.start()
        except Exception as exc:
            self._restart_owed = True
            log.error("restarting the consumer of %s failed, trying again: %r", group, exc)
        else:
            self._restart_owed = False
            log.warning("consumer of group %s restarted", group)


def coordination_failure(consumer: AIOKafkaConsumer) -> str | None:
    """Why the consumer's group coordination task ended, if it did while the consumer runs.

    aiokafka ends that task only on close, or on an error it did not expect; after that the
    consumer never delivers or commits again (every poll raises). Seen after broker restarts:
    under uvloop a write to a socket the broker closed raises RuntimeError where aiokafka
    expects OSError (aio-libs/aiokafka#1038). The services no longer run on uvloop (serve.py);
    this check stays for whatever else aiokafka does not expect."""
    coordinator = getattr(consumer, "_coordinator", None)
    task = getattr(coordinator, "_coordination_task", None)
    if not isinstance(task, asyncio.Future) or not task.done() or task.cancelled():
        return None
    if getattr(consumer, "_closed", False):
        return None
    return f"its group coordination ended: {task.exception()!r}"[:500]
