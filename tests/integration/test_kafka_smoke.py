"""The Kafka of the stack is a real broker: idempotent producer, committed offsets, ordering."""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from modelgate_testkit.namespace import Namespace

pytestmark = pytest.mark.integration


async def _new_topic(ns: Namespace, partitions: int) -> str:
    name = f"{ns.topic_prefix}smoke.{secrets.token_hex(3)}"
    admin = AIOKafkaAdminClient(**ns.infra.kafka.client_options())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()
    return name


async def _consume(consumer: AIOKafkaConsumer, count: int, timeout_s: float = 30) -> list[bytes]:
    values: list[bytes] = []

    async def read() -> None:
        async for msg in consumer:
            assert msg.value is not None
            values.append(msg.value)
            if len(values) == count:
                return

    await asyncio.wait_for(read(), timeout_s)
    return values


async def test_idempotent_producer_writes_each_message_once(namespace: Namespace) -> None:
    topic = await _new_topic(namespace, 1)
    producer = AIOKafkaProducer(**namespace.infra.kafka.client_options(), enable_idempotence=True)
    await producer.start()
    try:
        sent = [f"m{i}".encode() for i in range(200)]
        await asyncio.gather(*[await producer.send(topic, v) for v in sent])
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        **namespace.infra.kafka.client_options(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        got = await _consume(consumer, len(sent))
        end = (await consumer.end_offsets([TopicPartition(topic, 0)]))[TopicPartition(topic, 0)]
    finally:
        await consumer.stop()
    assert got == sent
    assert end == len(sent), "an idempotent producer writes no duplicates to the log"


async def test_consumer_group_resumes_after_last_committed_offset(namespace: Namespace) -> None:
    topic = await _new_topic(namespace, 1)
    group = f"{namespace.topic_prefix}smoke-group"
    producer = AIOKafkaProducer(**namespace.infra.kafka.client_options(), enable_idempotence=True)
    await producer.start()
    try:
        for i in range(10):
            await producer.send_and_wait(topic, f"v{i}".encode())
    finally:
        await producer.stop()

    def consumer() -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            topic,
            **namespace.infra.kafka.client_options(),
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )

    first = consumer()
    await first.start()
    try:
        seen: list[bytes] = []
        while len(seen) < 4:
            batch = await first.getmany(timeout_ms=5000, max_records=4 - len(seen))
            for records in batch.values():
                seen += [r.value for r in records if r.value is not None]
        await first.commit()  # offsets of what was read: the first four
    finally:
        await first.stop()
    assert seen == [f"v{i}".encode() for i in range(4)]

    second = consumer()
    await second.start()
    try:
        rest = await _consume(second, 6)
    finally:
        await second.stop()
    assert rest == [f"v{i}".encode() for i in range(4, 10)]


async def test_per_key_order_is_kept_across_three_partitions(namespace: Namespace) -> None:
    topic = await _new_topic(namespace, 3)
    keys = [f"model-{k}".encode() for k in range(6)]
    producer = AIOKafkaProducer(**namespace.infra.kafka.client_options(), enable_idempotence=True)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, f"{seq}".encode(), key=key)
            for seq in range(50)
            for key in keys
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        **namespace.infra.kafka.client_options(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    by_key: dict[bytes, list[int]] = defaultdict(list)
    partitions_of: dict[bytes, set[int]] = defaultdict(set)
    try:

        async def read_all() -> None:
            total = 0
            async for msg in consumer:
                assert msg.key is not None
                assert msg.value is not None
                by_key[msg.key].append(int(msg.value))
                partitions_of[msg.key].add(msg.partition)
                total += 1
                if total == 50 * len(keys):
                    return

        await asyncio.wait_for(read_all(), 30)
    finally:
        await consumer.stop()
    assert all(by_key[k] == list(range(50)) for k in keys), "each key's events stay in order"
    assert all(len(p) == 1 for p in partitions_of.values()), "a key always maps to one partition"
    used = set().union(*partitions_of.values())
    assert len(used) > 1, "the keys spread over more than one of the three partitions"
