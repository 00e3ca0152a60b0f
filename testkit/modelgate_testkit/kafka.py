"""Kafka from the tests: a run's topics with their ACLs, watching topics (every record since
the beginning, decoded when possible) and raw producing. Every client authenticates as the
principal it is given (the admin, unless a test plays a service or a submitter)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from confluent_kafka import KafkaError, KafkaException

from modelgate_shared.events import CloudEvent, PoisonMessage, decode
from modelgate_shared.kafka.acls import acl_table
from modelgate_shared.kafka.admin import ensure_topics
from modelgate_shared.kafka.security import KafkaAccess
from modelgate_shared.signing import EventSigner
from modelgate_shared.topics import Topics
from modelgate_stack.kafka_provisioning import grant, revoke_prefixed


async def provision_topics(kafka: KafkaAccess, topics: Topics, *, partitions: int = 3) -> None:
    """Create a run's topics (all of `topics.all_topics()`) and grant each principal of the
    ACL table its LITERAL rights on them and on its consumer group, as `make up` does for the
    stack's own: the services the tests start hold no right to create anything."""
    await ensure_topics(kafka, topics, partitions=partitions)
    if kafka.uses_sasl:  # a broker without authentication has no authorizer to tell
        await asyncio.to_thread(grant, kafka, acl_table(topics))


async def revoke_acls(kafka: KafkaAccess, prefix: str) -> None:
    """Delete the ACLs on a run's topics and groups (those named with its prefix)."""
    if not kafka.uses_sasl:
        return
    try:
        await asyncio.to_thread(revoke_prefixed, kafka, prefix)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError.SECURITY_DISABLED:
            raise


@dataclass(frozen=True)
class Seen:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]
    event: CloudEvent[Any] | None


@dataclass
class StubRecord:
    """A consumed record's fields (what `modelgate_shared.kafka.record.Record` names), for
    handing events to a handler or a span without a consumer."""

    topic: str
    partition: int = 0
    offset: int = 0
    timestamp: int = 0
    key: bytes | None = None
    value: bytes | None = None
    headers: Sequence[tuple[str, bytes]] = ()


class TopicTap:
    """Reads the given topics from offset 0 in the background (no consumer group)."""

    def __init__(self, kafka: KafkaAccess, topics: list[str]) -> None:
        self.kafka = kafka
        self.topics = topics
        self.seen: list[Seen] = []
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> TopicTap:
        consumer = AIOKafkaConsumer(**self.kafka.client_options(), enable_auto_commit=False)
        await consumer.start()
        cluster = await consumer._client.fetch_all_metadata()
        partitions = [
            TopicPartition(topic, p)
            for topic in self.topics
            for p in sorted(cluster.partitions_for_topic(topic) or ())
        ]
        missing = [t for t in self.topics if not cluster.partitions_for_topic(t)]
        assert not missing, f"topics do not exist: {missing}"
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        self._consumer = consumer
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for r in records:
                    headers = {k: v.decode("utf-8", "replace") for k, v in r.headers or ()}
                    try:
                        event: CloudEvent[Any] | None = decode(r.value, r.headers)
                    except PoisonMessage:
                        event = None
                    self.seen.append(
                        Seen(r.topic, r.partition, r.offset, r.key, r.value, headers, event)
                    )
            if batches:
                self._changed.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    def matching(self, predicate: Callable[[Seen], bool]) -> list[Seen]:
        return [s for s in self.seen if predicate(s)]

    async def wait_for(
        self, predicate: Callable[[Seen], bool], *, count: int = 1, timeout_s: float = 60
    ) -> list[Seen]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            found = self.matching(predicate)
            if len(found) >= count:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"only {len(found)} of {count} expected records after "
                    f"{timeout_s}s on {self.topics}"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 1.0))


async def produce(
    kafka: KafkaAccess,
    topic: str,
    value: bytes,
    *,
    key: bytes | None = None,
    headers: dict[str, str] | None = None,
    signer: EventSigner | None = None,
) -> None:
    """Publish one record; with `signer`, signed as that key's holder would sign it."""
    headers = {**(headers or {}), **(signer.headers(value) if signer is not None else {})}
    producer = AIOKafkaProducer(**kafka.client_options(), enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            value,
            key=key,
            headers=[(k, v.encode()) for k, v in headers.items()],
        )
    finally:
        await producer.stop()
