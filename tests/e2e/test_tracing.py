"""One submission, one trace: spans of every service, read back from the trace backend's
query API (not from an in-process exporter), with their parent links.

The services run as separate processes exporting OTLP to the backend, in a namespace of
their own so that no untraced replica of the gate takes a share of the events.

"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from modelgate_shared.events import SUBMITTED, encode, new_event
from modelgate_testkit.factories import submitted
from modelgate_testkit.infra import Infra
from modelgate_testkit.kafka import produce, provision_topics
from modelgate_testkit.models import tiny_safetensors
from modelgate_testkit.namespace import Namespace, create_namespace, drop_namespace
from modelgate_testkit.services import ServiceProcess
from tests.support.gate import Gate, metadata, upload, wait_for_status
from tests.support.metrics import dashboard_metrics, sample_names
from tests.support.traces import Trace, TraceBackend, choose_trace_backend

pytestmark = pytest.mark.e2e

TRACED = ("ingest", "validator", "registry", "audit")
INGEST, VALIDATOR, REGISTRY, AUDIT = (f"modelgate-{name}" for name in TRACED)


@dataclass
class TracedGate:
    ns: Namespace
    services: Gate
    backend: TraceBackend

    def topic(self, name: str) -> str:
        return f"{self.ns.topic_prefix}{name}"


@pytest.fixture(scope="module")
def backend(infra: Infra) -> TraceBackend:
    return choose_trace_backend(infra)


@pytest.fixture(scope="module")
async def traced_ns(
    infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Namespace]:
    ns = await create_namespace(infra, tmp_path_factory.mktemp("traced-namespace"))
    await provision_topics(infra.kafka, ns.topics)
    yield ns
    await drop_namespace(ns)


@pytest.fixture(scope="module")
def traced(
    traced_ns: Namespace, backend: TraceBackend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TracedGate]:
    logs = tmp_path_factory.mktemp("traced-logs")
    services = {
        name: ServiceProcess(name, {**traced_ns.env(name), **backend.service_env()}, logs)
        for name in TRACED
    }
    try:
        for service in services.values():
            service.start()
        yield TracedGate(traced_ns, services, backend)
    finally:
        for service in services.values():
            if service.proc is not None:
                service.stop()


def _has(trace: Trace, name: str, service: str) -> bool:
    return bool(trace.named(name, service))


async def test_a_submission_is_one_trace_across_the_services(traced: TracedGate) -> None:
    answer = await upload(
        traced.services,
        traced.ns,
        metadata("traced-model"),
        [("model.safetensors", tiny_safetensors(7))],
    )
    assert answer.status_code == 202, answer.text
    trace_id = answer.json()["trace_id"]
    assert trace_id
    assert len(trace_id) == 32
    assert answer.headers["x-trace-id"] == trace_id
    assert answer.headers["traceparent"].split("-")[1] == trace_id
    version = await wait_for_status(
        traced.services, traced.ns, "traced-model", "1.0.0", {"REGISTERED", "REJECTED"}
    )
    assert version["status"] == "REGISTERED", version

    submitted_topic = traced.topic("model.submitted")
    validated_topic = traced.topic("model.validated")
    registered_topic = traced.topic("model.registered")
    expected = [
        ("POST /api/v1/submissions", INGEST),
        (f"{submitted_topic} publish", INGEST),
        (f"{submitted_topic} process", VALIDATOR),
        ("S3.GetObject", VALIDATOR),  # the artifact read (a presigned GET)
        (f"{validated_topic} publish", VALIDATOR),
        (f"{submitted_topic} process", REGISTRY),
        (f"{validated_topic} process", REGISTRY),
        (f"{registered_topic} publish", REGISTRY),  # by the outbox relay
        # The audit log appends each of the submission's events, in the same trace.
        (f"{submitted_topic} process", AUDIT),
        (f"{registered_topic} process", AUDIT),
        ("audit append", AUDIT),
    ]

    def complete(trace: Trace) -> bool:
        return all(_has(trace, n, s) for n, s in expected) and not trace.dangling()

    trace = await traced.backend.wait_for(trace_id, complete)
    assert {INGEST, VALIDATOR, REGISTRY, AUDIT} <= trace.services

    # One root: the HTTP request; every other span hangs from it.
    (root,) = [s for s in trace.spans.values() if s.parent_id is None]
    assert (root.name, root.service) == ("POST /api/v1/submissions", INGEST)
    for span in trace.spans.values():
        if span is not root:
            assert trace.ancestors(span)[-1] is root, f"{span.name} is cut off from the request"

    # Across the wire, each consumer's span is the child of what its producer sent.
    validator_process = trace.one(f"{submitted_topic} process", VALIDATOR)
    parent = trace.parent(validator_process)
    assert parent is not None
    # The record carries its publish span's context; that span is the request's child.
    assert (parent.service, parent.name) == (INGEST, f"{submitted_topic} publish")
    assert parent.parent_id == root.span_id

    # The artifact read is the validation's child, and each check's outcome is an event of it.
    assert trace.one("S3.GetObject", VALIDATOR).parent_id == validator_process.span_id
    checks = [(name, a) for name, a in validator_process.events if name.startswith("check ")]
    assert [name for name, _ in checks] == [
        "check policy",
        "check integrity",
        "check signature",
        "check format-safety",
        "check benchmark",
        "check pinning",
    ]
    status = {name: a["modelgate.check.status"] for name, a in checks}
    assert {status[f"check {n}"] for n in ("policy", "integrity", "format-safety")} == {"passed"}
    assert status["check signature"] == "skipped"  # unsigned, and not required
    assert all(float(a["modelgate.check.duration_ms"]) >= 0 for _, a in checks)

    registry_validated = trace.one(f"{validated_topic} process", REGISTRY)
    sent_by = trace.parent(registry_validated)
    assert sent_by is not None
    assert sent_by.service == VALIDATOR
    assert validator_process in trace.ancestors(registry_validated)

    # The outbox relay publishes in the context of the transaction that wrote the event.
    relay = trace.one(f"{registered_topic} publish", REGISTRY)
    assert int(relay.attributes["modelgate.outbox.id"]) > 0
    assert relay.parent_id == registry_validated.span_id

    # The audit entry of model.registered hangs from the audit consumer's process span.
    audit_process = trace.one(f"{registered_topic} process", AUDIT)
    appends = [
        s for s in trace.named("audit append", AUDIT) if s.parent_id == audit_process.span_id
    ]
    assert len(appends) == 1
    assert int(appends[0].attributes["modelgate.audit.seq"]) > 0


async def test_a_direct_producers_traceparent_is_continued(traced: TracedGate) -> None:
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    data = submitted("direct-traced", "2.0.0")
    event = new_event(SUBMITTED, data, source="/tests/direct", subject="direct-traced/2.0.0")
    await produce(
        traced.ns.infra.kafka,
        traced.topic("model.submitted"),
        encode(event),
        key=b"direct-traced",
        headers={
            "content-type": "application/cloudevents+json",
            "traceparent": f"00-{trace_id}-{parent_id}-01",
        },
        signer=traced.ns.producer,
    )
    # Its artifact does not exist: the validator fails it and the registry rejects it.
    version = await wait_for_status(
        traced.services, traced.ns, "direct-traced", "2.0.0", {"REJECTED", "REGISTERED"}
    )
    assert version["status"] == "REJECTED"

    submitted_topic = traced.topic("model.submitted")
    validated_topic = traced.topic("model.validated")
    transitioned_topic = traced.topic("model.transitioned")

    def complete(trace: Trace) -> bool:
        return all(
            _has(trace, n, s)
            for n, s in [
                (f"{submitted_topic} process", REGISTRY),
                (f"{submitted_topic} process", VALIDATOR),
                (f"{validated_topic} process", REGISTRY),
                (f"{transitioned_topic} publish", REGISTRY),
                (f"{submitted_topic} process", AUDIT),
                ("audit append", AUDIT),
            ]
        )

    trace = await traced.backend.wait_for(trace_id, complete)
    # The producer's own span is not in the backend (it exported nothing): the consumers'
    # spans name it as their parent.
    assert trace.one(f"{submitted_topic} process", REGISTRY).parent_id == parent_id
    assert trace.one(f"{submitted_topic} process", VALIDATOR).parent_id == parent_id
    registry_validated = trace.one(f"{validated_topic} process", REGISTRY)
    relay = trace.one(f"{transitioned_topic} publish", REGISTRY)
    assert int(relay.attributes["modelgate.outbox.id"]) > 0
    assert relay.parent_id == registry_validated.span_id
    # The audit log's entry of the producer's event joins the producer's trace too.
    audit_process = trace.one(f"{submitted_topic} process", AUDIT)
    assert audit_process.parent_id == parent_id
    assert any(s.parent_id == audit_process.span_id for s in trace.named("audit append", AUDIT))
    assert all(s.parent_id for s in trace.spans.values()), "a span started a trace of its own"


DASHBOARD = (
    Path(__file__).resolve().parents[2]
    / "deploy/observability/grafana/dashboards/modelgate-pipeline.json"
)


async def test_running_services_expose_what_the_dashboard_queries(traced: TracedGate) -> None:
    """Scraped like Prometheus does (a viewer's bearer token), after the tests above."""
    wanted = dashboard_metrics(DASHBOARD)
    headers = traced.ns.auth("viewer")
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        exposed: set[str] = set()
        lag: list[float] = []
        async with httpx.AsyncClient(timeout=10) as client:
            for service in traced.services.values():
                answer = await client.get(f"{service.url}/metrics", headers=headers)
                assert answer.status_code == 200, answer.text
                families = list(text_string_to_metric_families(answer.text))
                exposed |= sample_names(families)
                lag += [
                    s.value
                    for f in families
                    if f.name == "modelgate_consumer_lag"
                    for s in f.samples
                    if s.labels["topic"].startswith(traced.ns.topic_prefix)
                ]
        # Lag is measured every few seconds once partitions are assigned.
        if lag or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(1)
    assert not wanted - exposed, f"not exposed: {sorted(wanted - exposed)}"
    assert lag, "no consumer lag measured for this run's partitions"
    assert all(v >= 0 for v in lag)

    # OpenMetrics (what Prometheus asks for) carries exemplars: latency points link to traces.
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(
            f"{traced.services['ingest'].url}/metrics",
            headers={**headers, "Accept": "application/openmetrics-text; version=1.0.0"},
        )
    assert answer.headers["content-type"].startswith("application/openmetrics-text")
    stage = [
        line
        for line in answer.text.splitlines()
        if line.startswith("modelgate_stage_duration_seconds_bucket") and "trace_id=" in line
    ]
    assert stage, "no exemplar on the ingest stage latency"
