"""Prometheus metrics more than one service records (each service exposes them on /metrics).

Service-specific metrics live beside the code that records them; the Grafana dashboard
(deploy/observability/grafana/dashboards/) queries only names defined in the services.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.trace import Span
from prometheus_client import Counter, Gauge, Histogram

# Seconds: from a few milliseconds (an HTTP read) to minutes (a GPU benchmark).
LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0,
)  # fmt: skip

HTTP_REQUESTS = Counter(
    "modelgate_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "modelgate_http_request_duration_seconds",
    "Time to answer an HTTP request (the whole body, uploads included)",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
EVENTS_PUBLISHED = Counter(
    "modelgate_events_published_total", "Records published to Kafka and acknowledged", ["topic"]
)
EVENT_LATENCY = Histogram(
    "modelgate_event_latency_seconds",
    "From a record's append to Kafka until its consumer is done with it (queueing included)",
    ["group", "topic"],
    buckets=LATENCY_BUCKETS,
)
HANDLER_DURATION = Histogram(
    "modelgate_handler_duration_seconds",
    "Time a consumer's handler takes for one partition's batch",
    ["group", "topic"],
    buckets=LATENCY_BUCKETS,
)
CONSUMER_LAG = Gauge(
    "modelgate_consumer_lag",
    "Records in a partition not yet committed by the consumer group (end offset - committed)",
    ["group", "topic", "partition"],
)
STAGE_DURATION = Histogram(
    "modelgate_stage_duration_seconds",
    "Time of one pipeline stage for one submission (ingest.accept, validator.validate, "
    "registry.decide = submission to verdict applied, outbox.relay = write to publish)",
    ["stage"],
    buckets=LATENCY_BUCKETS,
)


def exemplar(span: Span | None = None) -> dict[str, str] | None:
    """`{"trace_id": …}` of `span` (default: the current one) when it is sampled: attached to
    a histogram observation, Grafana links that point of the latency graph to its trace."""
    context = (span or trace.get_current_span()).get_span_context()
    if not context.is_valid or not context.trace_flags.sampled:
        return None
    return {"trace_id": format(context.trace_id, "032x")}
