"""At-least-once batch consumption with dead letters, on a FastStream subscriber.

Per partition, in offset order: decode each record and prove who signed it (undecodable or
unproven ones become dead letters, see `modelgate_shared.signing.proof`), hand the decoded
events to the service's handler, and commit that partition's offset only after the handler
returned. A crash anywhere before the commit means redelivery, so handlers
must be idempotent (they are: processed event ids are recorded with their effects).

Failures are sorted into two kinds. Transient ones (a dependency is away) are retried with
backoff for as long as it takes, without committing: nothing is skipped. Anything else is
isolated to the one event that causes it, which goes to `<topic>.dlq` with the reason, and
consumption goes on.

FastStream's own acknowledgement would commit everything the consumer fetched; we commit
exact per-partition offsets ourselves instead (AckPolicy.MANUAL, never `msg.ack()`).

Each partition's batch runs in a task of its own while that partition is paused: the poll loop
goes on at once (heartbeats, other partitions), so a handler may take minutes (a benchmark)
without the group ever thinking this member is gone. When the task is done the offset is
committed and the partition resumed. On a rebalance, work on revoked partitions is awaited for
a bounded time, then cancelled (its events are redone by the new owner); on shutdown it is
drained the same way.

Telemetry: with tracing on, each record gets a `<topic> process` span whose parent is the
record's `traceparent`; a handler makes it current with `item.traced()` around the work it
does for that event. A consumer configured with `trace_records=False` makes that span only
for a record it dead-letters. Every few seconds the group's lag per partition (end offset
minus what we committed) is measured for Prometheus.

Kafka clients can wedge after a broker restart (a commit retried forever, a poll that never
returns, group coordination ended by an unexpected error). Each commit is bounded in time;
and a consumer whose coordination ended, with lag that takes nothing for a minute while
nothing is in flight, or whose commits have failed for a minute, gets a new Kafka client,
after logging a task dump.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import Consumer, KafkaMessage
from faststream.kafka.message import FAKE_CONSUMER
from faststream.kafka.message import KafkaMessage as KafkaMessageClass
from prometheus_client import Counter

from modelgate_shared.events import CloudEvent, EventType, PoisonMessage, decode
from modelgate_shared.kafka.dead_letters import DeadLetters
from modelgate_shared.kafka.record import Record
from modelgate_shared.signing import EventVerifier, Proven
from modelgate_shared.task_dump import dump_tasks
from modelgate_shared.telemetry.kafka import ProcessSpan
from modelgate_shared.telemetry.metrics import (
    CONSUMER_LAG,
    EVENT_LATENCY,
    HANDLER_DURATION,
    exemplar,
)
from modelgate_shared.telemetry.tracing import tracing_enabled
from modelgate_shared.transient import is_transient

log = logging.getLogger(__name__)

CONSUMED = Counter("modelgate_events_consumed_total", "Events handled", ["group", "topic"])
DEAD_LETTERED = Counter("modelgate_dead_letters_total", "Events sent to a DLQ", ["group", "topic"])
RETRIES = Counter("modelgate_handler_retries_total", "Transient failures retried", ["group"])
RESTARTS = Counter(
    "modelgate_consumer_restarts_total", "Stalled Kafka consumers replaced", ["group"]
)
COMMITS_ABANDONED = Counter(
    "modelgate_commits_abandoned_total", "Offset commits given up after every attempt", ["group"]
)


@dataclass(frozen=True, slots=True)
class Received:
    """A decoded event and the Kafka record it came in."""

    event: CloudEvent[Any]
    record: Record
    span: ProcessSpan | None = None
    """This record's process span (None when tracing is off)."""
    proven: Proven | None = None
    """Who signed the event (None only where a test hands events to a handler directly)."""

    @property
    def headers(self) -> dict[str, str]:
        return {k: v.decode("utf-8", "replace") for k, v in self.record.headers or ()}

    def traced(self) -> AbstractContextManager[object]:
        """Make this event's process span current: queries, S3 calls and publishes made
        inside belong to the event's trace (publishes carry it on)."""
        return self.span.current() if self.span is not None else nullcontext()


class Rejected(Exception):
    """Raised by a handler for an event it can never process; it becomes a dead letter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Handler = Callable[[Sequence[Received]], Awaitable[None]]


@dataclass(kw_only=True)
class ConsumerConfig:
    group_id: str
    topics: Sequence[str]
    expect: Mapping[str, Sequence[EventType]] = field(default_factory=dict)
    """Topic -> event types accepted on it; others are dead-lettered."""
    max_records: int = 500
    batch_timeout_ms: int = 50
    max_poll_interval_ms: int = 300_000
    session_timeout_ms: int = 10_000
    revoke_wait_s: float = 8.0
    """How long a rebalance waits for in-flight work on revoked partitions (keep it under the
    session timeout, which is how long the group waits for this member to rejoin)."""
    retry_initial_s: float = 0.2
    retry_max_s: float = 5.0
    commit_timeout_s: float = 15.0
    """How long one offset commit may take. aiokafka retries a commit for as long as the
    group coordinator answers with retriable errors or is not found, and a partition stays
    paused until its commit returns: after a broker restart that was a silent stall."""
    commit_attempts: int = 5
    trace_records: bool = True
    """Whether every record gets a process span (with tracing on). Off for consumers whose
    work is bookkeeping nobody follows in a trace (ingest's status follower): spans cost
    CPU per record, and such a consumer then records one only for a dead letter, where
    the trace should show what went wrong."""
    lag_interval_s: float = 5.0
    """How often the consumer lag per partition is measured (0: never)."""
    stall_restart_s: float = 60.0
    """A consumer is stalled when its offset commits have failed for this long, or when its
    partitions have lag while no batch is in flight and none came for this long: its Kafka
    client is wedged (seen after broker restarts: commits hung while fetching went on). It is
    replaced by a new client, which rejoins the group and reads on from the committed
    offsets. Checked at each lag measurement (lag_interval_s > 0); 0: never."""


@dataclass
class Health:
    """Whether the last attempt at the handler's dependencies worked (for /readyz)."""

    failing_since: float | None = None
    last_error: str = ""

    async def check(self) -> None:
        if self.failing_since is not None:
            raise RuntimeError(f"retrying since {self.failing_since:.0f}: {self.last_error}")


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
        self.handler = handler
        self.dead_letters = dead_letters
        self.verifier = verifier
        """Required: no consumer hands its handler an event whose signer is not proven."""
        self.health = Health()
        self._in_flight: dict[TopicPartition, asyncio.Task[None]] = {}
        self._closing = False
        self._subscriber: Any = None
        self._committed: dict[TopicPartition, int] = {}
        self._lag_task: asyncio.Task[None] | None = None
        self._last_progress = time.monotonic()
        """When a batch last arrived or an offset was last committed (the stall watchdog)."""
        self._restart_owed = False
        self._commits_failing_since: float | None = None
        """When the first of the commits failing now began (None: the last one worked)."""

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
            listener=_OnRebalance(self),
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            parser=_keep_records,
            decoder=_no_decoding,
        )

        async def on_batch(msg: KafkaMessage, consumer: Consumer) -> None:
            await self.process(msg.raw_message, consumer)

        subscriber(on_batch)
        self._subscriber = subscriber
        if self.config.lag_interval_s > 0:
            with contextlib.suppress(RuntimeError):  # no running loop: no lag metric
                self._lag_task = asyncio.get_running_loop().create_task(
                    self._watch(), name=f"consumer watch {self.config.group_id}"
                )

    async def process(self, records: Sequence[Record], consumer: AIOKafkaConsumer) -> None:
        """Start each partition's batch in its own task, the partition paused meanwhile."""
        if self._closing:
            return  # not committed: whoever consumes next gets these records again
        self._last_progress = time.monotonic()
        by_partition: dict[TopicPartition, list[Record]] = defaultdict(list)
        for record in records:
            by_partition[TopicPartition(record.topic, record.partition)].append(record)
        for tp, batch in by_partition.items():
            earlier = self._in_flight.get(tp)
            if earlier is not None:  # not expected (paused), but order comes first
                await asyncio.wait([earlier])
            consumer.pause(tp)
            self._in_flight[tp] = asyncio.create_task(
                self._run_partition(tp, batch, consumer), name=f"consume {tp.topic}[{tp.partition}]"
            )

    async def _run_partition(
        self, tp: TopicPartition, batch: list[Record], consumer: AIOKafkaConsumer
    ) -> None:
        try:
            await self._partition(tp, batch, consumer)
        except Exception:
            log.exception("processing %s stopped; its events will be redelivered", tp)
        finally:
            self._in_flight.pop(tp, None)
            if tp in consumer.assignment():
                consumer.resume(tp)

    async def finish(self, partitions: Collection[TopicPartition], timeout_s: float) -> None:
        """Let in-flight work on `partitions` end (committing), cancelling what outlasts
        `timeout_s`: a cancelled batch is not committed and will be consumed again."""
        tasks = [self._in_flight[tp] for tp in partitions if tp in self._in_flight]
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
        self._closing = True
        if self._lag_task is not None:
            self._lag_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lag_task
        await self.finish(list(self._in_flight), timeout_s)

    async def _partition(
        self, tp: TopicPartition, records: list[Record], consumer: AIOKafkaConsumer
    ) -> None:
        traced = self.config.trace_records and tracing_enabled()
        received: list[Received] = []
        try:
            for record in records:
                span = ProcessSpan(record, self.config.group_id) if traced else None
                try:
                    event = decode(
                        record.value, record.headers, expect=self.config.expect.get(tp.topic)
                    )
                    proven = await self.verifier.prove(
                        record.value or b"", record.headers or (), event
                    )
                except PoisonMessage as poison:
                    await self._dead_letter(record, poison.reason, span)
                else:
                    received.append(Received(event, record, span, proven))
            if received:
                began = time.perf_counter()
                await self._handle(received)
                HANDLER_DURATION.labels(self.config.group_id, tp.topic).observe(
                    time.perf_counter() - began
                )
                CONSUMED.labels(self.config.group_id, tp.topic).inc(len(received))
            await self._commit(consumer, tp, records[-1].offset + 1)
        finally:
            for item in received:
                if item.span is not None:
                    item.span.end()
        latency = EVENT_LATENCY.labels(self.config.group_id, tp.topic)
        now_ms = time.time() * 1000
        for item in received:
            latency.observe(
                max(0.0, now_ms - item.record.timestamp) / 1000,
                exemplar(item.span.span) if item.span is not None else None,
            )

    async def _handle(self, batch: list[Received]) -> None:
        try:
            await self._retrying(lambda: self.handler(batch))
            return
        except Exception as exc:
            if len(batch) == 1:
                await self._dead_letter(batch[0].record, _reason(exc), batch[0].span)
                return
        # Something in the batch can never be processed: find it by going one at a time.
        for item in batch:
            try:
                await self._retrying(lambda item=item: self.handler([item]))  # type: ignore[misc]
            except Exception as exc:
                await self._dead_letter(item.record, _reason(exc), item.span)

    async def _retrying(self, attempt: Callable[[], Awaitable[None]]) -> None:
        delay = self.config.retry_initial_s
        loop = asyncio.get_running_loop()
        while True:
            try:
                await attempt()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                RETRIES.labels(self.config.group_id).inc()
                if self.health.failing_since is None:
                    self.health.failing_since = loop.time()
                self.health.last_error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning(
                    "transient failure, retrying in %.1fs: %s", delay, self.health.last_error
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.retry_max_s)
            else:
                self.health.failing_since = None
                return

    async def _dead_letter(
        self, record: Record, reason: str, span: ProcessSpan | None = None
    ) -> None:
        if span is None and tracing_enabled():
            # Made now: a consumer with trace_records=False made none when the record came.
            span = ProcessSpan(record, self.config.group_id)
        if span is None:
            await self._retrying(lambda: self.dead_letters.send(record, reason))
        else:
            span.fail(reason)
            with span.current():
                await self._retrying(lambda: self.dead_letters.send(record, reason))
            span.event("dead-lettered", reason=reason[:500])
            span.end()
        DEAD_LETTERED.labels(self.config.group_id, record.topic).inc()

    async def _commit(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        """Commit `offset` for `tp`, each attempt bounded in time. Giving up is safe: the
        partition goes on from the consumer's position, the next batch's commit covers this
        one, and if none comes these events are redelivered to idempotent handlers."""
        began = time.monotonic()
        for attempt in range(self.config.commit_attempts):
            try:
                await asyncio.wait_for(
                    consumer.commit({tp: offset}), timeout=self.config.commit_timeout_s
                )
                self._committed[tp] = offset
                self._last_progress = time.monotonic()
                self._commits_failing_since = None
                return
            except CommitFailedError as exc:
                # The partition moved to another member during a rebalance: it will redo
                # these events from the last commit, and our handlers are idempotent.
                log.warning("commit of %s@%d refused after a rebalance: %s", tp, offset, exc)
                return
            except (KafkaError, TimeoutError) as exc:
                if self._commits_failing_since is None:
                    self._commits_failing_since = began
                reason = str(exc) or f"no answer in {self.config.commit_timeout_s:g}s"
                log.warning("commit of %s@%d failed (attempt %d): %s", tp, offset, attempt, reason)
                await asyncio.sleep(0.5 * (attempt + 1))
        COMMITS_ABANDONED.labels(self.config.group_id).inc()
        log.error("giving up committing %s@%d; the next commit covers these events", tp, offset)

    async def _watch(self) -> None:
        """Every few seconds: measure the lag, and replace a stalled Kafka client."""
        interval = self.config.lag_interval_s
        while True:
            await asyncio.sleep(interval)
            if self._restart_owed:
                await self._restart(None)
                continue
            consumer: AIOKafkaConsumer | None = getattr(self._subscriber, "consumer", None)
            if consumer is None:
                continue
            ended = _coordination_failure(consumer)
            if ended is not None and self.config.stall_restart_s > 0 and not self._closing:
                await self._restart(ended)  # at once: this client will never recover
                continue
            lag: int | None = None
            try:
                # Bounded: a wedged client must not wedge its own watchdog.
                lag = await asyncio.wait_for(self._measure_lag(consumer), max(interval, 5.0))
            except Exception as exc:  # a metric is not worth a crash; try again later
                log.debug("measuring consumer lag failed: %r", exc)
            stall = self._stall(lag)
            if stall is not None:
                await self._restart(stall)

    def _stall(self, lag: int | None) -> str | None:
        """Why this consumer counts as stalled, or None."""
        limit = self.config.stall_restart_s
        if limit <= 0 or self._closing:
            return None
        now = time.monotonic()
        failing = self._commits_failing_since
        if failing is not None and now - failing > limit:
            return f"no offset commit has worked for {now - failing:.0f}s"
        idle = now - self._last_progress
        if lag and not self._in_flight and idle > limit:
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
        await self.finish(list(self._in_flight), self.config.revoke_wait_s)
        try:
            await asyncio.wait_for(self._subscriber.stop(), timeout=30)
        except Exception as exc:
            log.warning("stopping the stalled consumer of %s failed: %r", group, exc)
        self._committed.clear()
        self._commits_failing_since = None
        self._last_progress = time.monotonic()
        try:
            await self._subscriber.start()
        except Exception as exc:
            self._restart_owed = True
            log.error("restarting the consumer of %s failed, trying again: %r", group, exc)
        else:
            self._restart_owed = False
            log.warning("consumer of group %s restarted", group)

    async def _measure_lag(self, consumer: AIOKafkaConsumer) -> int:
        """Set the lag gauges of the assigned partitions; returns their total."""
        group = self.config.group_id
        assigned = set(consumer.assignment())
        for tp in [tp for tp in self._committed if tp not in assigned]:
            del self._committed[tp]
            with contextlib.suppress(KeyError):
                CONSUMER_LAG.remove(group, tp.topic, str(tp.partition))
        if not assigned:
            return 0
        total = 0
        ends = await consumer.end_offsets(list(assigned))
        for tp in assigned:
            committed = self._committed.get(tp)
            if committed is None:
                committed = await consumer.committed(tp)
                if committed is None:  # nothing committed yet: all of it is lag
                    committed = (await consumer.beginning_offsets([tp]))[tp]
                self._committed[tp] = committed
            lag = max(0, ends[tp] - committed)
            CONSUMER_LAG.labels(group, tp.topic, str(tp.partition)).set(lag)
            total += lag
        return total


class _OnRebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: EventConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: Collection[TopicPartition]) -> None:
        await self.owner.finish(revoked, self.owner.config.revoke_wait_s)
        for tp in revoked:  # whoever gets them next commits; ask Kafka again if they return
            self.owner._committed.pop(tp, None)

    async def on_partitions_assigned(self, assigned: Collection[TopicPartition]) -> None:
        self.owner._last_progress = time.monotonic()  # a (re)join is progress


def _coordination_failure(consumer: AIOKafkaConsumer) -> str | None:
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


def _reason(exc: BaseException) -> str:
    if isinstance(exc, Rejected):
        return exc.reason
    return f"handler failed: {type(exc).__name__}: {exc}"


async def _keep_records(records: tuple[Record, ...]) -> KafkaMessageClass:
    """FastStream's parser decodes every header as UTF-8 and would drop the whole batch on a
    single bad header; we keep the raw records and decode (or dead-letter) each ourselves."""
    return KafkaMessageClass(body=b"", headers={}, raw_message=records, consumer=FAKE_CONSUMER)


async def _no_decoding(_: Any) -> None:
    return None
