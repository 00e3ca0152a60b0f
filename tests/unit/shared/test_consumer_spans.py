"""Which records get a process span: every one by default; with `trace_records=False` only
a dead letter. The consumer's batch logic is driven directly, with stand-ins for the Kafka
client and the dead-letter topic (tests/integration/test_event_consumer.py runs it on Kafka)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from aiokafka import TopicPartition
from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from modelgate_shared.events import SUBMITTED, encode, new_event
from modelgate_shared.events.codec import kafka_headers
from modelgate_shared.kafka.consumer import ConsumerConfig, EventConsumer, Received, Rejected
from modelgate_shared.kafka.dead_letters import DeadLetters
from modelgate_shared.kafka.record import Record
from tests.support.factories import submitted
from tests.support.kafka import StubRecord

TOPIC = "model.submitted"
TRACE_ID, PARENT_ID = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"


class _Client:
    """The part of the Kafka client a batch uses: its offset commit."""

    def __init__(self) -> None:
        self.committed: list[int] = []

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed += offsets.values()


class _DeadLetters(DeadLetters):
    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def send(self, record: Record, reason: str) -> None:
        self.sent.append((record.offset, reason))


async def _refuse_hopeless(batch: Sequence[Received]) -> None:
    for item in batch:
        if item.event.data.name == "hopeless":
            raise Rejected("never valid")


def _record(offset: int, name: str) -> StubRecord:
    event = new_event(SUBMITTED, submitted(name), source="/test", subject=f"{name}/1.0.0")
    headers = {**kafka_headers(event), "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"}
    return StubRecord(
        TOPIC,
        offset=offset,
        key=name.encode(),
        value=encode(event),
        headers=[(k, v.encode()) for k, v in headers.items()],
    )


async def _consume(trace_records: bool) -> tuple[_Client, _DeadLetters]:
    config = ConsumerConfig(
        group_id="g", topics=[TOPIC], expect={TOPIC: [SUBMITTED]}, trace_records=trace_records
    )
    dead = _DeadLetters()
    consumer = EventConsumer(KafkaBroker(), config, _refuse_hopeless, dead)
    client = _Client()
    records = [_record(0, "fine"), _record(1, "hopeless"), _record(2, "also-fine")]
    await consumer._partition(TopicPartition(TOPIC, 0), records, client)  # type: ignore[arg-type]
    return client, dead


@pytest.mark.parametrize("trace_records", [True, False])
async def test_a_dead_letter_always_has_its_failed_process_span(
    spans: InMemorySpanExporter, trace_records: bool
) -> None:
    client, dead = await _consume(trace_records)
    assert client.committed == [3]
    assert dead.sent == [(1, "never valid")]
    finished = spans.get_finished_spans()
    assert all(s.name == f"{TOPIC} process" for s in finished)
    assert len(finished) == (3 if trace_records else 1)
    (failed,) = [s for s in finished if (s.attributes or {})["messaging.kafka.offset"] == 1]
    assert failed.status.status_code == StatusCode.ERROR
    assert [e.name for e in failed.events] == ["dead-lettered"]
    assert failed.parent is not None
    assert format(failed.parent.span_id, "016x") == PARENT_ID
    assert format(failed.context.trace_id, "032x") == TRACE_ID
