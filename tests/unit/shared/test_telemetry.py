"""Telemetry pieces in isolation: when tracing is on, how spans are parented and carried in
Kafka headers, trace ids in logs, SQL statement spans, HTTP metrics by route template.

The tracer provider here is a local one with an in-memory exporter (never the global one),
so these tests see the spans directly; tests/e2e/test_tracing.py reads them back from the
trace backend instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanContext, TraceFlags
from prometheus_client import REGISTRY

from modelgate_shared.auth import HashedTokenVerifier
from modelgate_shared.health import Readiness
from modelgate_shared.http_app import create_app
from modelgate_shared.kafka.publisher import EventPublisher
from modelgate_shared.log_setup import JsonFormatter
from modelgate_shared.telemetry import tracing
from modelgate_shared.telemetry.kafka import ProcessSpan
from modelgate_shared.telemetry.postgres import traced_statement
from modelgate_shared.telemetry.tracing import current_trace_headers, tracing_wanted
from modelgate_shared.topics import Topics
from modelgate_testkit.kafka import StubRecord


def _finished(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    found = [s for s in exporter.get_finished_spans() if s.name == name]
    assert len(found) == 1, [s.name for s in exporter.get_finished_spans()]
    return found[0]


@pytest.mark.parametrize(
    ("env", "wanted"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ""}, False),
    ],
)
def test_traces_are_exported_only_when_an_endpoint_is_configured(
    env: dict[str, str], wanted: bool
) -> None:
    assert tracing_wanted(env) is wanted


def test_without_a_current_span_nothing_is_injected() -> None:
    assert current_trace_headers() == {}


def test_log_lines_carry_the_current_trace_and_span_ids() -> None:
    formatter = JsonFormatter("test")
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "hello", None, None)
    assert "trace_id" not in json.loads(formatter.format(record))
    context = SpanContext(0xABC, 0xDEF, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    with trace.use_span(trace.NonRecordingSpan(context)):
        entry = json.loads(formatter.format(record))
    assert entry["trace_id"] == f"{0xABC:032x}"
    assert entry["span_id"] == f"{0xDEF:016x}"


def _record(headers: dict[str, str]) -> StubRecord:
    return StubRecord(
        "model.submitted",
        partition=2,
        offset=41,
        key=b"m",
        value=b"{}",
        headers=[(k, v.encode()) for k, v in headers.items()],
    )


def test_a_records_process_span_is_the_child_of_its_traceparent(
    spans: InMemorySpanExporter,
) -> None:
    trace_id, parent_id = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    process = ProcessSpan(_record({"traceparent": f"00-{trace_id}-{parent_id}-01"}), "g")
    with process.current():
        headers = current_trace_headers()
    process.end()
    process.end()  # ending twice is harmless
    span = _finished(spans, "model.submitted process")
    assert span.kind == trace.SpanKind.CONSUMER
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == parent_id
    assert span.attributes is not None
    assert span.attributes["messaging.kafka.offset"] == 41
    # What the handler writes inside the span (outbox rows, publishes) continues the trace.
    assert headers["traceparent"].split("-")[1:3] == [trace_id, f"{span.context.span_id:016x}"]


def test_a_record_without_traceparent_starts_a_trace(spans: InMemorySpanExporter) -> None:
    ProcessSpan(_record({}), "g").end()
    assert _finished(spans, "model.submitted process").parent is None


STORED = "00-11111111111111111111111111111111-2222222222222222-01"
"""A traceparent as an outbox row stores it (the writing transaction's)."""


async def _sent(key: bytes | None, headers: dict[str, str], **options: Any) -> dict[str, Any]:
    """The headers a record published by `EventPublisher` arrives with (FastStream's
    in-memory broker: only our header handling is under test)."""
    broker = KafkaBroker()
    got: list[dict[str, Any]] = []

    @broker.subscriber("model.validated")
    async def handle(message: KafkaMessage) -> None:
        got.append(dict(message.headers))

    async with TestKafkaBroker(broker):
        publisher = EventPublisher(broker, Topics(), source="/tests")
        await publisher.publish_raw(
            "model.validated", key=key, value=b"{}", headers=headers, **options
        )
        await asyncio.sleep(0)
    (sent,) = got
    return sent


async def test_publishing_writes_its_span_into_the_headers(
    spans: InMemorySpanExporter,
) -> None:
    provider = tracing._State.provider
    assert provider is not None
    with provider.get_tracer("t").start_as_current_span("handle model.submitted") as parent:
        headers = await _sent(b"m", {"traceparent": STORED})
    publish = _finished(spans, "model.validated publish")
    assert publish.kind == trace.SpanKind.PRODUCER
    assert publish.attributes is not None
    assert publish.attributes["messaging.kafka.message.key"] == "m"
    # The stored traceparent is replaced by the publish span's.
    trace_id = f"{parent.get_span_context().trace_id:032x}"
    assert headers["traceparent"].split("-")[1:3] == [trace_id, f"{publish.context.span_id:016x}"]
    assert publish.parent is not None
    assert publish.parent.span_id == parent.get_span_context().span_id
    # One span per send; consuming makes no span of FastStream's (ours are per record).
    assert sorted(s.name for s in spans.get_finished_spans()) == [
        "handle model.submitted",
        "model.validated publish",
    ]


async def test_publishing_an_outbox_row_continues_the_trace_its_headers_name(
    spans: InMemorySpanExporter,
) -> None:
    """The relay publishes outside any span: the row's stored traceparent is the parent."""
    headers = await _sent(
        b"m",
        {"traceparent": STORED},
        parent_from_headers=True,
        span_attributes={"modelgate.outbox.id": 7},
    )
    (publish,) = spans.get_finished_spans()
    assert publish.name == "model.validated publish"
    assert publish.parent is not None
    assert publish.parent.is_remote
    assert f"{publish.parent.trace_id:032x}-{publish.parent.span_id:016x}" == (
        "11111111111111111111111111111111-2222222222222222"
    )
    assert publish.attributes is not None
    assert publish.attributes["modelgate.outbox.id"] == 7
    assert publish.attributes["messaging.destination.name"] == "model.validated"
    assert headers["traceparent"] == (f"00-{'1' * 32}-{publish.context.span_id:016x}-01")


async def test_publishing_untraced_sends_the_headers_as_given() -> None:
    headers = await _sent(None, {"traceparent": STORED})
    assert headers["traceparent"] == STORED


class _Conn:
    _params = None
    _addr = ("127.0.0.1", 5432)


async def test_sql_spans_for_slow_or_failed_statements_inside_a_trace(
    spans: InMemorySpanExporter,
) -> None:
    async def run(_: Any, query: str, delay: float = 0.0) -> str:
        await asyncio.sleep(delay)
        if "boom" in query:
            raise RuntimeError("boom")
        return "ok"

    provider = tracing._State.provider
    assert provider is not None
    tracer = provider.get_tracer("t")
    fetch = traced_statement(run, 20_000_000, tracer)  # 20 ms
    conn = _Conn()
    assert await fetch(conn, "SELECT 1", 0.05) == "ok"  # outside a trace: no span
    with tracer.start_as_current_span("work"):
        assert await fetch(conn, "SELECT fast") == "ok"
        assert await fetch(conn, "UPDATE slow SET x = 1", 0.05) == "ok"
        with pytest.raises(RuntimeError):
            await fetch(conn, "INSERT boom")
    names = sorted(s.name for s in spans.get_finished_spans())
    assert names == ["INSERT", "UPDATE", "work"]
    update = _finished(spans, "UPDATE")
    assert update.attributes is not None
    assert update.attributes["db.query.text"] == "UPDATE slow SET x = 1"
    assert update.end_time is not None
    assert update.start_time is not None
    assert update.end_time - update.start_time >= 20_000_000
    assert _finished(spans, "INSERT").status.status_code == trace.StatusCode.ERROR


def _counter(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_http_metrics_are_labelled_by_route_template() -> None:
    app = create_app(
        title="t", version="0", verifier=HashedTokenVerifier([]), readiness=Readiness()
    )

    @app.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    labels = {"method": "GET", "route": "/things/{thing_id}", "status": "200"}
    before = _counter("modelgate_http_requests_total", labels)
    with TestClient(app) as client:
        for n in range(3):
            assert client.get(f"/things/{n}").status_code == 200
        assert client.get("/nowhere").status_code == 404
    assert _counter("modelgate_http_requests_total", labels) == before + 3
    assert _counter(
        "modelgate_http_requests_total", {"method": "GET", "route": "unmatched", "status": "404"}
    )
    assert _counter(
        "modelgate_http_request_duration_seconds_count",
        {"method": "GET", "route": "/things/{thing_id}"},
    )


def test_requests_get_one_server_span_in_the_callers_trace_and_probes_none(
    spans: InMemorySpanExporter,
) -> None:
    app = create_app(
        title="t", version="0", verifier=HashedTokenVerifier([]), readiness=Readiness()
    )

    @app.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    caller = "4bf92f3577b34da6a3ce929d0e0e4736"
    with TestClient(app) as client:
        answer = client.get(
            "/things/7", headers={"traceparent": f"00-{caller}-00f067aa0ba902b7-01"}
        )
        assert answer.status_code == 200
        client.get("/healthz")

    (span,) = spans.get_finished_spans()
    assert span.name == "GET /things/{thing_id}"
    assert span.kind == trace.SpanKind.SERVER
    assert format(span.context.trace_id, "032x") == caller
    assert span.parent is not None
    assert span.parent.span_id == 0x00F067AA0BA902B7
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/things/{thing_id}"
    assert span.attributes["http.response.status_code"] == 200
