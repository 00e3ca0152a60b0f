"""Both span processors `MODELGATE_SPAN_PROCESSOR` offers deliver what a span holds to the
real trace backend (Jaeger, read back through its query API): name, kind, parent, attributes
of each type, events, status and the service's resource."""

from __future__ import annotations

import secrets

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode

from modelgate_shared.telemetry.tracing import span_processor
from modelgate_testkit.infra import Infra
from tests.support.traces import Trace, choose_trace_backend


@pytest.mark.parametrize("kind", ["native", "sdk"])
async def test_a_span_processor_delivers_every_field_to_the_trace_backend(
    infra: Infra, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = choose_trace_backend(infra)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", backend.otlp_endpoint)
    service = f"modelgate-export-{kind}-{secrets.token_hex(3)}"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(span_processor(kind))
    tracer = provider.get_tracer("modelgate.test")
    with tracer.start_as_current_span(
        "model.submitted publish",
        kind=SpanKind.PRODUCER,
        attributes={"messaging.destination.name": "mg.model.submitted"},
    ) as parent:
        with tracer.start_as_current_span(
            "S3.GetObject",
            kind=SpanKind.CLIENT,
            attributes={"modelgate.read.bytes": 4096, "modelgate.read.ranged": True},
        ) as child:
            child.add_event("retry", {"attempt": 2, "reason": "503"})
            child.set_status(Status(StatusCode.ERROR, "sha256 mismatch"))
    trace_id = format(parent.get_span_context().trace_id, "032x")
    assert provider.force_flush(10_000)
    provider.shutdown()

    found = await backend.wait_for(trace_id, lambda t: len(t.spans) == 2, timeout_s=30)
    assert found.services == {service}
    publish = found.one("model.submitted publish")
    read = found.one("S3.GetObject")
    assert (publish.kind, publish.parent_id) == ("producer", None)
    assert publish.attributes["messaging.destination.name"] == "mg.model.submitted"
    assert (read.kind, read.parent_id) == ("client", publish.span_id)
    assert read.attributes["modelgate.read.bytes"] == 4096
    assert read.attributes["modelgate.read.ranged"] is True
    assert read.attributes["otel.status_code"] == "ERROR"
    assert read.attributes["otel.status_description"] == "sha256 mismatch"
    assert read.events == [("retry", {"attempt": 2, "reason": "503"})]
    assert _scope(found) == {"modelgate.test"}


def _scope(found: Trace) -> set[str]:
    return {str(s.attributes.get("otel.scope.name")) for s in found.spans.values()}
