"""A commit that never answers must not leave its partition paused for good.

After a Kafka broker restart aiokafka can keep one commit retrying (or waiting for the group
coordinator) indefinitely; the consumer bounds each attempt, gives up after a few, and resumes
the partition, whose next commit then covers the events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, cast

import pytest
from aiokafka import TopicPartition
from faststream.kafka import KafkaBroker

from modelgate_shared.events import SUBMITTED, encode, new_event
from modelgate_shared.events.codec import kafka_headers
from modelgate_shared.kafka.consumer import ConsumerConfig, EventConsumer, Received
from modelgate_shared.kafka.dead_letters import DeadLetters
from tests.support.factories import submitted
from tests.support.kafka import StubRecord

TP = TopicPartition("t.model.submitted", 0)


class HangingCommits:
    """The parts of AIOKafkaConsumer the consumer uses; `commit` answers only once told to."""

    def __init__(self, hang: bool) -> None:
        self.hang = hang
        self.paused: set[TopicPartition] = set()
        self.committed: dict[TopicPartition, int] = {}
        self.attempts = 0

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    def pause(self, tp: TopicPartition) -> None:
        self.paused.add(tp)

    def resume(self, tp: TopicPartition) -> None:
        self.paused.discard(tp)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.attempts += 1
        if self.hang:
            await asyncio.Event().wait()  # like a coordinator that never comes back
        self.committed.update(offsets)


def _record(offset: int) -> StubRecord:
    event = new_event(SUBMITTED, submitted(f"m{offset}"), source="test", subject=f"m{offset}")
    headers = [(k, v.encode()) for k, v in kafka_headers(event).items()]
    return StubRecord(TP.topic, TP.partition, offset, value=encode(event), headers=headers)


def _consumer(handled: list[str]) -> EventConsumer:
    async def handler(batch: Sequence[Received]) -> None:
        handled.extend(str(item.event.id) for item in batch)

    config = ConsumerConfig(
        group_id="g", topics=[TP.topic], commit_timeout_s=0.05, commit_attempts=2, lag_interval_s=0
    )
    return EventConsumer(cast("KafkaBroker", None), config, handler, cast("DeadLetters", None))


async def _run_batch(owner: EventConsumer, kafka: HangingCommits, offsets: range) -> None:
    await owner.process([_record(o) for o in offsets], cast("Any", kafka))
    assert TP in kafka.paused  # paused while its batch is handled
    await asyncio.wait_for(owner.finish([TP], timeout_s=30), timeout=30)


async def test_a_commit_that_never_answers_is_abandoned_and_the_partition_resumed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handled: list[str] = []
    owner = _consumer(handled)
    kafka = HangingCommits(hang=True)
    with caplog.at_level(logging.WARNING, logger="modelgate_shared.kafka.consumer"):
        await _run_batch(owner, kafka, range(3))
    assert len(handled) == 3
    assert kafka.attempts == 2
    assert kafka.paused == set()
    assert "giving up committing" in caplog.text
    # Kafka answers again: the next batch's commit covers the abandoned one.
    kafka.hang = False
    await _run_batch(owner, kafka, range(3, 5))
    assert kafka.committed == {TP: 5}
    assert kafka.paused == set()
    assert len(handled) == 5
