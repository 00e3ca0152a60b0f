"""Tracing, set up once per process from the standard `OTEL_*` environment variables.

Traces are exported over OTLP/HTTP (by fastotel's native processor unless
`MODELGATE_SPAN_PROCESSOR=sdk`) when an endpoint is configured
(`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) and
`OTEL_SDK_DISABLED` is not `true`. Without one, no tracer provider is installed and nothing
in our code creates spans, injects headers or wraps clients: tracing then costs one boolean
check per event. Batching (`OTEL_BSP_*`), sampling (`OTEL_TRACES_SAMPLER`) and resource
attributes (`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SERVICE_NAME`) follow the SDK's variables.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from modelgate_shared.telemetry.postgres import instrument_asyncpg

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

    from modelgate_shared.settings import ServiceSettings

log = logging.getLogger(__name__)

TRACER_NAME = "modelgate"
TRACE_HEADERS = ("traceparent", "tracestate")
_PROPAGATOR = TraceContextTextMapPropagator()


class _State:
    provider: TracerProvider | None = None
    # One tracer for the process: the SDK's get_tracer builds a new one on every call.
    tracer: trace.Tracer = trace.NoOpTracer()


def tracing_wanted(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for traces to be exported."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return bool(
        env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def tracing_enabled() -> bool:
    return _State.provider is not None


def setup_telemetry(settings: ServiceSettings, *, version: str) -> bool:
    """Install this process's tracer provider (once; later calls change nothing) and the
    SQL statement spans. Returns whether traces are exported."""
    if _State.provider is not None or not tracing_wanted():
        return tracing_enabled()
    protocol = os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "")
    )
    if protocol and protocol != "http/protobuf":
        log.warning("OTLP protocol %s is not supported; exporting with http/protobuf", protocol)
    attributes: dict[str, str] = {
        "service.namespace": "modelgate",
        "service.version": version,
        "service.instance.id": f"{socket.gethostname()}-{os.getpid()}",
        "deployment.environment.name": settings.environment,
    }
    if not os.environ.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = f"modelgate-{settings.service_name}"
    # The SDK only now, like the exporters below: with tracing off (most runs) it and what
    # it imports (psutil, for the resource's process attributes) stay out of memory.
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415

    from modelgate_shared.telemetry.resource import hashed_once  # noqa: PLC0415

    resource = hashed_once(attributes)
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(span_processor(settings.span_processor))
    trace.set_tracer_provider(provider)
    use_provider(provider)
    instrument_asyncpg(settings.trace_sql_min_ms, provider)
    log.info(
        "tracing on: OTLP/HTTP export as %s (%s span processor)",
        resource.attributes.get("service.name"),
        settings.span_processor,
    )
    return True


def span_processor(kind: str) -> SpanProcessor:
    """The processor that batches and exports finished spans, both configured by the
    `OTEL_BSP_*` and `OTEL_EXPORTER_OTLP_*` variables.

    The SDK's encodes OTLP protobuf in Python on a thread that holds the GIL, about half of
    what a span costs; in `bench/tracing_overhead.py` that was the largest single part of
    tracing's overhead. fastotel's copies the span into Rust in `on_end` and does the rest
    on a native thread (45 -> 22 µs of CPU per span, in an in-process loop).

    Both are imported here, when tracing is on: with it off, as in most runs, their 5 MiB
    (an HTTP client, protobuf, a native library) stay out of every service's memory."""
    if kind == "sdk":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter,
        )
        from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

        return BatchSpanProcessor(OTLPSpanExporter())
    from fastotel import OTLPSpanProcessor  # noqa: PLC0415

    return OTLPSpanProcessor()


def use_provider(provider: TracerProvider | None) -> None:
    """Make `provider` the one our spans come from (None: none), with its cached tracer."""
    _State.provider = provider
    _State.tracer = provider.get_tracer(TRACER_NAME) if provider else trace.NoOpTracer()


def tracer_provider() -> TracerProvider | None:
    return _State.provider


def tracer() -> trace.Tracer:
    return _State.tracer


def current_trace_id() -> str | None:
    """The 32-hex trace id of the current span, if there is one."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


def current_trace_headers() -> dict[str, str]:
    """`traceparent` (and `tracestate`) of the current span; empty when none is current."""
    carrier: dict[str, str] = {}
    if trace.get_current_span().get_span_context().is_valid:
        _PROPAGATOR.inject(carrier)
    return carrier


def context_from(headers: Mapping[str, str]) -> Context:
    """The remote parent that `traceparent`/`tracestate` headers name (empty if none)."""
    return _PROPAGATOR.extract(headers)


def trace_headers_of(headers: Mapping[str, str]) -> dict[str, str]:
    """Only the W3C trace context headers of a message."""
    return {k: v for k, v in headers.items() if k in TRACE_HEADERS}
