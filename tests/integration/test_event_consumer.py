"""The shared consumer on the real Kafka: long work, retries, dead letters, exact commits."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from modelgate_shared.bootstrap import build_event_verifier
from modelgate_shared.events import SUBMITTED, encode, new_event
from modelgate_shared.kafka.broker import create_broker
from modelgate_shared.kafka.consumer import (
    COMMITS_ABANDONED,
    RESTARTS,
    ConsumerConfig,
    EventConsumer,
    Received,
    Rejected,
)
from modelgate_shared.kafka.dead_letters import DeadLetters
from modelgate_shared.kafka.publisher import EventPublisher
from modelgate_shared.settings import ServiceSettings
from modelgate_shared.topics import Topics
from modelgate_testkit.factories import submitted
from modelgate_testkit.kafka import TopicTap, produce
from modelgate_testkit.namespace import Namespace
from tests.support.polling import poll, until

pytestmark = pytest.mark.integration


async def _topics(ns: Namespace, suffix: str) -> Topics:
    topics = Topics(prefix=f"{ns.topic_prefix}{suffix}.")
    admin = AIOKafkaAdminClient(**ns.infra.kafka.client_options())
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topics.submitted, 1, 1), NewTopic(topics.dlq("model.submitted"), 1, 1)]
        )
    finally:
        await admin.close()
    return topics


async def _committed(ns: Namespace, group: str, topic: str) -> int | None:
    probe = AIOKafkaConsumer(
        **ns.infra.kafka.client_options(), group_id=group, enable_auto_commit=False
    )
    await probe.start()
    try:
        committed: int | None = await probe.committed(TopicPartition(topic, 0))
        return committed
    finally:
        await probe.stop()


class Recorder:
    """A handler with all-or-nothing batches, as the real (transactional) ones have."""

    def __init__(
        self,
        delay_s: float = 0.0,
        fail: dict[str, list[Exception]] | None = None,
        always: dict[str, Exception] | None = None,
    ) -> None:
        self.delay_s = delay_s
        self.fail = fail or {}
        self.always = always or {}
        self.seen: list[str] = []

    async def __call__(self, batch: Sequence[Received]) -> None:
        done = []
        for item in batch:
            name = item.event.data.name
            if name in self.always:
                raise self.always[name]
            failures = self.fail.get(name)
            if failures:
                raise failures.pop(0)
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            done.append(name)
        self.seen += done


def _config(topics: Topics, group: str, **overrides: Any) -> ConsumerConfig:
    """A consumer of `topics.submitted` expecting submissions, with `overrides`."""
    return ConsumerConfig(
        group_id=group,
        topics=[topics.submitted],
        expect={topics.submitted: [SUBMITTED]},
        **overrides,
    )


@contextlib.asynccontextmanager
async def _running(
    ns: Namespace, topics: Topics, handler: Recorder, config: ConsumerConfig
) -> AsyncIterator[EventConsumer]:
    """A started consumer on its own broker; drained and stopped on the way out."""
    settings = ServiceSettings.model_validate(
        {**ns.env(), **ns.kafka_admin_env(), "MODELGATE_TOPIC_PREFIX": topics.prefix}
    )
    broker = create_broker(settings)
    publisher = EventPublisher(broker, topics, source="/test")
    consumer = EventConsumer(
        broker,
        config,
        handler,
        DeadLetters(publisher, config.group_id),
        verifier=build_event_verifier(settings),
    )
    consumer.attach()
    await broker.start()
    try:
        yield consumer
    finally:
        await consumer.drain()
        await broker.stop()


async def _never(*_: object, **__: object) -> None:
    """Stands in for a Kafka client call that never returns."""
    await asyncio.Event().wait()


async def _publish(
    ns: Namespace, topic: str, *names: str, headers: dict[str, str] | None = None
) -> None:
    for name in names:
        event = new_event(SUBMITTED, submitted(name), source="/test", subject=f"{name}/1.0.0")
        await produce(
            ns.infra.kafka,
            topic,
            encode(event),
            key=name.encode(),
            headers=headers,
            signer=ns.producer,
        )


async def test_work_longer_than_the_poll_interval_is_neither_revoked_nor_redone(
    namespace: Namespace,
) -> None:
    topics = await _topics(namespace, "long")
    group = f"{topics.prefix}slow-group"
    handler = Recorder(delay_s=9.0)
    config = _config(topics, group, max_poll_interval_ms=3000, session_timeout_ms=6000)
    revoked: list[object] = []
    async with _running(namespace, topics, handler, config) as consumer:
        original = consumer.finish

        async def counting(partitions: object, timeout_s: float) -> None:
            if partitions:
                revoked.append(partitions)
            await original(partitions, timeout_s)  # type: ignore[arg-type]

        consumer.finish = counting  # type: ignore[method-assign]
        await _publish(namespace, topics.submitted, "slow-model")
        await until(lambda: bool(handler.seen))
        await asyncio.sleep(1.0)
        assert handler.seen == ["slow-model"], "handled once, after three times the interval"
        assert revoked == [], "no rebalance while the partition's work ran"
        assert await _committed(namespace, group, topics.submitted) == 1


async def test_transient_failures_are_retried_and_a_bad_event_is_dead_lettered(
    namespace: Namespace,
) -> None:
    topics = await _topics(namespace, "retry")
    group = f"{topics.prefix}retry-group"
    tap = await TopicTap(namespace.infra.kafka, [topics.dlq("model.submitted")]).start()
    handler = Recorder(
        fail={"flaky": [ConnectionRefusedError("database away"), TimeoutError("still away")]},
        always={"hopeless": Rejected("this one can never be processed")},
    )
    config = _config(topics, group, retry_initial_s=0.05)
    async with _running(namespace, topics, handler, config):
        try:
            await _publish(namespace, topics.submitted, "flaky", "hopeless", "after")
            (dead,) = await tap.wait_for(lambda s: True, timeout_s=30)
            await until(lambda: "after" in handler.seen)
            assert handler.seen == ["flaky", "after"]
            assert dead.key == b"hopeless"
            assert dead.headers["dlq-reason"] == "this one can never be processed"
            committed = await poll(
                lambda: _committed(namespace, group, topics.submitted), lambda c: c == 3
            )
            assert committed == 3
        finally:
            await tap.stop()


async def test_a_record_nested_too_deep_is_dead_lettered_and_its_batch_handled(
    namespace: Namespace,
) -> None:
    # Found by the consumer fuzzing: decoding it raised RecursionError, which stopped the
    # whole batch with a traceback; its valid neighbours were never handled, and the next
    # batch's commit went past them.
    topics = await _topics(namespace, "deep")
    group = f"{topics.prefix}deep-group"
    tap = await TopicTap(namespace.infra.kafka, [topics.dlq("model.submitted")]).start()
    event = new_event(SUBMITTED, submitted("deep"), source="/test", subject="deep/1.0.0")
    deep = b'{"deep":' + b"[" * 100_000 + b"]" * 100_000 + b"," + encode(event)[1:]
    await _publish(namespace, topics.submitted, "before")
    await produce(
        namespace.infra.kafka, topics.submitted, deep, key=b"deep", signer=namespace.producer
    )
    await _publish(namespace, topics.submitted, "after")
    handler = Recorder()
    async with _running(namespace, topics, handler, _config(topics, group)):  # one batch
        try:
            (dead,) = await tap.wait_for(lambda s: True, timeout_s=30)
            await until(lambda: "after" in handler.seen)
            assert handler.seen == ["before", "after"]
            assert dead.key == b"deep"
            assert dead.headers["dlq-reason"] == "not a JSON CloudEvent: nested too deep"
            committed = await poll(
                lambda: _committed(namespace, group, topics.submitted), lambda c: c == 3
            )
            assert committed == 3
        finally:
            await tap.stop()


@pytest.mark.parametrize("trace_records", [True, False])
async def test_a_dead_letter_has_a_failed_process_span_in_its_producers_trace(
    namespace: Namespace, spans: InMemorySpanExporter, trace_records: bool
) -> None:
    """Every record gets a process span, or with `trace_records=False` (ingest's status
    follower) only the one that is dead-lettered: with the error, the `dead-lettered`
    event, and the producer's `traceparent` as its parent."""
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    topics = await _topics(namespace, f"spans-{'all' if trace_records else 'failed'}")
    group = f"{topics.prefix}spans-group"
    tap = await TopicTap(namespace.infra.kafka, [topics.dlq("model.submitted")]).start()
    handler = Recorder(always={"hopeless": Rejected("never valid")})
    config = _config(topics, group, trace_records=trace_records)
    async with _running(namespace, topics, handler, config):
        try:
            await _publish(
                namespace,
                topics.submitted,
                "fine",
                "hopeless",
                "also-fine",
                headers={"traceparent": f"00-{trace_id}-{parent_id}-01"},
            )
            await tap.wait_for(lambda s: True, timeout_s=30)
            await until(lambda: "also-fine" in handler.seen)
        finally:
            await tap.stop()
    # Drained on the way out: every span the consumer makes has ended.
    processed = [s for s in spans.get_finished_spans() if s.name == f"{topics.submitted} process"]
    assert len(processed) == (3 if trace_records else 1)
    (failed,) = [s for s in processed if (s.attributes or {})["messaging.kafka.offset"] == 1]
    assert failed.status.status_code == StatusCode.ERROR
    assert [e.name for e in failed.events] == ["dead-lettered"]
    assert failed.parent is not None
    assert format(failed.parent.span_id, "016x") == parent_id
    assert format(failed.context.trace_id, "032x") == trace_id


@pytest.mark.parametrize("wedged_call", ["getmany", "commit", "coordination"])
async def test_a_wedged_consumer_is_replaced_and_reads_on(
    namespace: Namespace, wedged_call: str
) -> None:
    """A Kafka client whose polls or commits stop returning, or whose group coordination
    died (as aiokafka's did after broker restarts), is noticed by the watchdog and replaced;
    the new one reads on from the commit."""
    topics = await _topics(namespace, f"wedge-{wedged_call}")
    group = f"{topics.prefix}wedge-group"
    handler = Recorder()
    config = _config(topics, group, lag_interval_s=0.5, stall_restart_s=3.0, commit_timeout_s=0.5)
    restarts = RESTARTS.labels(group)
    async with _running(namespace, topics, handler, config) as consumer:
        await _publish(namespace, topics.submitted, "before")
        await until(lambda: handler.seen == ["before"])
        await until(lambda: consumer.offsets.committed != {})
        wedged = consumer.subscriber.consumer

        async def uvloop_write(*_: object, **__: object) -> None:
            raise RuntimeError("unable to perform operation on <TCPTransport closed=True>")

        if wedged_call == "coordination":
            # What uvloop raised in aiokafka's coordination routine after a broker restart.
            wedged._coordinator.ensure_coordinator_known = uvloop_write
            wedged._coordinator.coordinator_dead()
        else:
            setattr(wedged, wedged_call, _never)  # from the next call on, it never returns
        await asyncio.sleep(0.5)
        await _publish(namespace, topics.submitted, "after-1", "after-2")
        everything = {"before", "after-1", "after-2"}
        await until(lambda: set(handler.seen) == everything)
        await until(lambda: restarts._value.get() == 1)
        assert consumer.subscriber.consumer is not wedged
        # The new client commits what the wedged one could not (redelivering it if need be).
        await until(lambda: 3 in consumer.offsets.committed.values())
        assert await _committed(namespace, group, topics.submitted) == 3
        assert list(dict.fromkeys(handler.seen)) == ["before", "after-1", "after-2"]


async def test_a_commit_that_never_answers_is_abandoned_and_the_partition_goes_on(
    namespace: Namespace,
) -> None:
    """With the watchdog off, a commit that never returns is given up after its tries: the
    partition is resumed (later events are handled) and the next commit covers the lost one."""
    topics = await _topics(namespace, "hung-commit")
    group = f"{topics.prefix}hung-commit-group"
    handler = Recorder()
    config = _config(topics, group, commit_timeout_s=0.2, commit_attempts=2, stall_restart_s=0)
    abandoned = COMMITS_ABANDONED.labels(group)
    async with _running(namespace, topics, handler, config) as consumer:
        await _publish(namespace, topics.submitted, "before")
        await until(lambda: 1 in consumer.offsets.committed.values())
        client = consumer.subscriber.consumer
        answering = client.commit

        client.commit = _never
        await _publish(namespace, topics.submitted, "during")
        await until(lambda: abandoned._value.get() == 1)
        assert handler.seen == ["before", "during"]
        assert await _committed(namespace, group, topics.submitted) == 1
        client.commit = answering  # Kafka answers again
        # Handled only if the partition was resumed after the abandoned commit.
        await _publish(namespace, topics.submitted, "after")
        await until(lambda: handler.seen == ["before", "during", "after"])
        committed = await poll(
            lambda: _committed(namespace, group, topics.submitted), lambda c: c == 3
        )
        assert committed == 3
        assert consumer.subscriber.consumer is client, "not replaced: the watchdog is off"
