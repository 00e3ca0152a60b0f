"""Every Kafka consumer fuzzed on every topic it reads (issue 18): generated and mutated
records (valid envelopes with hostile field values, untrusted signatures, broken bytes) each
take effect in every group that reads the topic or are dead-lettered by it with a reason; a
well-formed marker after them takes effect in every group (none stopped); and no service logs
a traceback. What is generated: `tests/support/event_fuzz.py`.

MODELGATE_FUZZ_EXAMPLES sets the records of each kind (hostile, untrusted, mutated) per topic
(small in `make test`; `make fuzz` runs more).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelgate_shared.events import encode, new_event
from modelgate_shared.events.catalog import BY_TOPIC
from modelgate_shared.signing import EventSigner
from modelgate_testkit.factories import submitted
from modelgate_testkit.kafka import TopicTap
from modelgate_testkit.namespace import PRODUCER, Namespace
from tests.support.event_fuzz import (
    CONSUMERS,
    WRITER,
    Fuzzed,
    Keys,
    Kind,
    Observed,
    Sent,
    decoded,
    fuzzed_records,
    judge,
    marker,
    observe,
    produce_all,
    wait_until_consumed,
)
from tests.support.fuzz import crashes, examples_per_operation, log_size
from tests.support.gate import Gate

pytestmark = pytest.mark.e2e

POOL = [uuid.UUID(int=0), *(uuid.uuid4() for _ in range(3))]
"""Ids every topic's records draw from besides fresh ones: event ids that repeat, submissions
that several events (on several topics) name."""


def _keys(namespace: Namespace) -> Keys:
    return Keys(
        producer=namespace.producer,
        producer_name=PRODUCER,
        services={s: namespace.service_signer(s) for s in ("ingest", "validator", "registry")},
        stranger=EventSigner(Ed25519PrivateKey.generate()),
    )


@pytest.mark.parametrize("contract_topic", list(CONSUMERS))
async def test_fuzzed_events_take_effect_or_are_dead_lettered_and_stop_no_consumer(
    gate: Gate, namespace: Namespace, tap: TopicTap, contract_topic: str
) -> None:
    began = time.monotonic()
    topic = namespace.topics.name(contract_topic)
    services = CONSUMERS[contract_topic]
    keys = _keys(namespace)
    # In a thread: the session's event loop (the tap's consumer) keeps running meanwhile.
    records = await asyncio.to_thread(
        fuzzed_records,
        contract_topic,
        examples_per_operation(),
        bucket=namespace.bucket,
        pinned_bucket=namespace.pinned_bucket,
        pool=POOL,
        keys=keys,
    )
    # One marker per partition (the round robin puts the last three on three partitions).
    markers = [marker(contract_topic, keys, pinned_bucket=namespace.pinned_bucket) for _ in "abc"]
    starts = {s: log_size(gate[s]) for s in services}
    sent = await produce_all(
        namespace.infra.kafka_as(WRITER[contract_topic]), topic, [*records, *markers]
    )
    assert {s.partition for s in sent if s.record.kind is Kind.MARKER} == {
        s.partition for s in sent
    }, "a partition without a marker"

    groups = {s: f"{namespace.topic_prefix}modelgate-{s}" for s in services}
    behind = await wait_until_consumed(
        namespace.infra.kafka, groups, sent, timeout_s=60 + 2 * len(sent)
    )
    failures = await _judged(namespace, tap, topic, services, sent)

    kinds = Counter(s.record.kind.value for s in sent)
    decodable = sum(1 for s in sent if s.event is not None)
    print(
        f"fuzz {contract_topic}: {len(sent)} records ({dict(kinds)}), {decodable} decodable, "
        f"consumed by {', '.join(services)} in {time.monotonic() - began:.1f}s"
    )
    assert not behind, "\n".join(behind)
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:30])
    for service in services:
        crashed, written = crashes(gate[service], starts[service])
        assert not crashed, f"{service} logged {crashed}:\n{written[-3000:]}"


async def _judged(
    namespace: Namespace, tap: TopicTap, topic: str, services: tuple[str, ...], sent: list[Sent]
) -> list[str]:
    """`judge`'s failures, looked at again for a while: the tap reads the dead-letter topics
    a moment after the groups committed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        observed = await observe(namespace.database_url, tap.seen, topic, services, sent)
        failures = judge(sent, services, observed)
        if not failures or loop.time() > deadline:
            return failures
        await asyncio.sleep(1)


# -- the check can fail --


def _sent(kind: Kind, offset: int, *, event: bool = True) -> Sent:
    value = encode(new_event(BY_TOPIC["model.submitted"], submitted(), source="/t", subject="s/1"))
    record = Fuzzed(kind, "a test record", value if event else b"{")
    return Sent(
        record, "t.model.submitted", 0, offset, decoded("model.submitted", record.value, ())
    )


def test_the_judge_flags_what_neither_took_effect_nor_was_dead_lettered() -> None:
    hostile, poison, untrusted, mark, silent = (
        _sent(Kind.HOSTILE, 0),
        _sent(Kind.MUTATED, 1, event=False),
        _sent(Kind.UNTRUSTED, 2),
        _sent(Kind.MARKER, 3),
        _sent(Kind.HOSTILE, 4),
    )
    took_effect = {s.event.id for s in (hostile, untrusted, mark) if s.event is not None}
    assert len(took_effect) == 3
    fine = Observed(
        effects={"audit": took_effect},
        dead={("audit", 0, 1): "not a JSON CloudEvent", ("audit", 0, 2): "unsigned event"},
    )
    assert judge([hostile, poison, untrusted, mark], ["audit"], fine) == []

    failures = judge(
        [silent, poison, untrusted, mark],
        ["audit"],
        Observed(effects={"audit": took_effect}, dead={("audit", 0, 3): "no"}),
    )
    assert len(failures) == 4, failures
    assert "neither took effect nor was dead-lettered" in failures[0]
    assert "poison that was not dead-lettered" in failures[1]
    assert "an untrusted record was not dead-lettered" in failures[2]
    assert "the marker was dead-lettered" in failures[3]
    assert judge([hostile], ["audit"], Observed(dead={("audit", 0, 0): " "})) == [
        f"audit: dead-lettered without a reason: {hostile.describe()}"
    ]


async def test_the_checks_fail_for_a_group_that_does_not_read_the_topic(
    gate: Gate, namespace: Namespace, tap: TopicTap
) -> None:
    # The validator does not read model.archived: judged as if it did, nothing it should have
    # done shows (no effect, no dead letter) and its group never gets past the records, while
    # the audit service, which reads the topic, passes the same checks.
    topic = namespace.topics.archived
    keys = _keys(namespace)
    records = await asyncio.to_thread(
        fuzzed_records,
        "model.archived",
        2,
        bucket=namespace.bucket,
        pinned_bucket=namespace.pinned_bucket,
        pool=[uuid.uuid4()],  # not the shared pool: no id the validator answered before
        keys=keys,
    )
    markers = [marker("model.archived", keys, pinned_bucket=namespace.pinned_bucket)]
    sent = await produce_all(namespace.infra.kafka_as("registry"), topic, [*records, *markers])
    group = f"{namespace.topic_prefix}modelgate-"
    kafka = namespace.infra.kafka
    assert await wait_until_consumed(kafka, {"audit": f"{group}audit"}, sent, timeout_s=60) == []
    behind = await wait_until_consumed(kafka, {"validator": f"{group}validator"}, sent, timeout_s=3)
    assert len(behind) == len({s.partition for s in sent}), behind
    assert all(line.startswith("validator ") for line in behind), behind
    assert await _judged(namespace, tap, topic, ("audit",), sent) == []
    observed = await observe(namespace.database_url, tap.seen, topic, ("validator",), sent)
    flagged = judge(sent, ("validator",), observed)
    assert len(flagged) == len(sent), flagged
