"""The broker itself holds the gate: no client gets in without a password, and each principal
writes and reads exactly what the ACL table gives it (modelgate_shared.kafka.acls).

Every case talks to the real broker; a refusal is the broker's answer, not the client's."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from modelgate_shared.kafka.acls import PRINCIPALS, acl_table, consumer_group
from modelgate_shared.kafka.security import KafkaAccess
from modelgate_shared.topics import Topics
from modelgate_testkit.kafka import produce, provision_topics
from modelgate_testkit.namespace import Namespace

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def topics(namespace: Namespace) -> Topics:
    """The gate's topics under a prefix of their own, with the table's ACLs on them."""
    if not namespace.infra.kafka.uses_sasl:
        pytest.skip("this broker has no authentication (testcontainers' plain Kafka)")
    acl_topics = Topics(prefix=f"{namespace.topic_prefix}acl.")
    await provision_topics(namespace.infra.kafka, acl_topics, partitions=1)
    return acl_topics


def _as(ns: Namespace, principal: str) -> KafkaAccess:
    access = ns.infra.kafka_as(principal)
    assert access.username == principal, f"the stack gave no credentials for {principal}"
    return access


async def _write(kafka: KafkaAccess, topic: str) -> None:
    producer = AIOKafkaProducer(
        **kafka.client_options(), enable_idempotence=True, request_timeout_ms=10_000
    )
    await producer.start()
    try:
        await asyncio.wait_for(producer.send_and_wait(topic, b"{}", key=b"acl-test"), 20)
    finally:
        await producer.stop()


async def _read_one(kafka: KafkaAccess, topic: str, group: str) -> bytes | None:
    """Join `group`, read `topic` from its start, return the first value (None: nothing)."""
    consumer = AIOKafkaConsumer(
        topic,
        **kafka.client_options(),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        await consumer.start()  # a refused group can fail here already
        record = await asyncio.wait_for(consumer.getone(), 20)
        value: bytes | None = record.value
        return value
    finally:
        await consumer.stop()


async def test_a_client_without_credentials_is_refused(namespace: Namespace) -> None:
    if not namespace.infra.kafka.uses_sasl:
        pytest.skip("this broker has no authentication")
    anonymous = KafkaAccess(bootstrap_servers=namespace.infra.kafka.bootstrap_servers)
    producer = AIOKafkaProducer(**anonymous.client_options(), request_timeout_ms=5000)
    with pytest.raises(KafkaError):
        await producer.start()
    await producer.stop()


async def test_a_wrong_password_is_refused(namespace: Namespace) -> None:
    admin = namespace.infra.kafka
    if not admin.uses_sasl:
        pytest.skip("this broker has no authentication")
    impostor = replace(admin, password=f"{admin.password}-not")
    producer = AIOKafkaProducer(**impostor.client_options(), request_timeout_ms=5000)
    with pytest.raises(KafkaError):
        await producer.start()
    await producer.stop()


FORBIDDEN_WRITES = [
    ("ingest", "model.validated"),
    ("submitter", "model.validated"),
    ("registry", "model.validated"),
    ("audit", "model.validated"),
    ("submitter", "model.registered"),
    ("validator", "model.registered"),
    ("ingest", "model.registered"),
    ("ingest", "model.transitioned"),
    ("validator", "model.archived"),
    ("audit", "model.submitted"),
    ("validator", "model.submitted"),
    ("submitter", "model.submitted.dlq"),
    ("submitter", "audit.checkpoints"),
    ("registry", "audit.checkpoints"),
]


@pytest.mark.parametrize(("principal", "topic"), FORBIDDEN_WRITES)
async def test_a_principal_cannot_write_a_topic_that_is_not_its_own(
    namespace: Namespace, topics: Topics, principal: str, topic: str
) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await _write(_as(namespace, principal), topics.name(topic))


@pytest.mark.parametrize("principal", PRINCIPALS)
async def test_every_write_the_table_grants_works(
    namespace: Namespace, topics: Topics, principal: str
) -> None:
    for topic in acl_table(topics)[principal].write:
        await _write(_as(namespace, principal), topic)


@pytest.mark.parametrize("principal", ["ingest", "validator", "registry", "audit"])
async def test_each_service_reads_what_it_consumes_in_its_own_group(
    namespace: Namespace, topics: Topics, principal: str
) -> None:
    await produce(namespace.infra.kafka, topics.submitted, b"for-everyone", key=b"k")
    group = consumer_group(topics, principal)
    # Everyone of the four consumes model.submitted, so the record above is there for each.
    assert topics.submitted in acl_table(topics)[principal].read
    assert await _read_one(_as(namespace, principal), topics.submitted, group) is not None


async def test_the_submitter_cannot_read_even_the_topic_it_writes(
    namespace: Namespace, topics: Topics
) -> None:
    await produce(namespace.infra.kafka, topics.submitted, b"private", key=b"k")
    consumer = AIOKafkaConsumer(
        **_as(namespace, "submitter").client_options(), enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topics.submitted, 0)])
        await consumer.seek_to_beginning()
        with pytest.raises(TopicAuthorizationFailedError):
            await asyncio.wait_for(consumer.getmany(timeout_ms=5000), 20)
    finally:
        await consumer.stop()


async def test_a_service_cannot_join_another_services_group(
    namespace: Namespace, topics: Topics
) -> None:
    await produce(namespace.infra.kafka, topics.submitted, b"x", key=b"k")
    with pytest.raises(GroupAuthorizationFailedError):
        await _read_one(
            _as(namespace, "validator"), topics.submitted, consumer_group(topics, "registry")
        )


async def test_a_service_cannot_read_a_topic_it_does_not_consume(
    namespace: Namespace, topics: Topics
) -> None:
    await produce(namespace.infra.kafka, topics.registered, b"x", key=b"k")
    with pytest.raises(TopicAuthorizationFailedError):
        await _read_one(
            _as(namespace, "validator"), topics.registered, consumer_group(topics, "validator")
        )
