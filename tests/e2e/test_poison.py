"""Poison on every consumed topic: each consumer group dead-letters it with the reason, and
every service goes on consuming."""

from __future__ import annotations

import pytest

from modelgate_testkit.kafka import Seen, TopicTap, produce
from modelgate_testkit.namespace import Namespace
from tests.support.audit import causal_order, wait_for_entries
from tests.support.gate import Gate, register

pytestmark = pytest.mark.e2e

CONSUMERS = {
    "model.submitted": {"validator", "registry", "ingest", "audit"},
    "model.validated": {"registry", "ingest", "audit"},
    "model.registered": {"ingest", "audit"},
    "model.transitioned": {"ingest", "audit"},
    "model.archived": {"audit"},
}


async def test_poison_on_each_topic_is_dead_lettered_by_each_group(
    gate: Gate, namespace: Namespace, tap: TopicTap
) -> None:
    for topic in CONSUMERS:
        await produce(
            namespace.infra.kafka,
            namespace.topics.name(topic),
            b"\x00\x01 not an event",
            key=f"poison-{topic}".encode(),
        )
    for topic, groups in CONSUMERS.items():
        dlq = namespace.topics.dlq(topic)
        dlq, key = namespace.topics.dlq(topic), f"poison-{topic}".encode()

        def dead_letter(seen: Seen, dlq: str = dlq, key: bytes = key) -> bool:
            return seen.topic == dlq and seen.key == key

        dead = await tap.wait_for(dead_letter, count=len(groups), timeout_s=60)
        seen_groups = {s.headers["dlq-consumer-group"].rsplit("modelgate-", 1)[-1] for s in dead}
        assert seen_groups == groups, topic
        for record in dead:
            assert "not a JSON CloudEvent" in record.headers["dlq-reason"]
            assert record.headers["dlq-original-topic"] == namespace.topics.name(topic)
            assert record.value == b"\x00\x01 not an event"

    # And everyone goes on: a submission right after goes all the way through.
    version = await register(gate, namespace, "after-poison", seed=51)
    assert version["status"] == "REGISTERED"
    entries = await wait_for_entries(gate["audit"].url, namespace, 3, model="after-poison")
    by_time = sorted(entries, key=causal_order)
    assert [e["action"] for e in by_time][:3] == [
        "model_submitted",
        "validation_passed",
        "model_registered",
    ]
