"""S3 client spans: one `S3.<Operation>` client span per API call made inside a sampled trace
(readiness probes and other calls outside one make none).

aiobotocore's client is async, so OpenTelemetry's botocore instrumentation (which wraps the
synchronous `_make_api_call`) does not see its calls; wrapping the client's own coroutine
does, retries and paginators included.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from modelgate_shared.telemetry.tracing import tracer, tracing_enabled

ApiCall = Callable[[str, dict[str, Any]], Awaitable[Any]]


@contextmanager
def s3_span(operation_name: str, api_params: dict[str, Any]) -> Iterator[None]:
    """An `S3.<Operation>` client span around a call, when it is made inside a sampled trace
    (also for requests sent without the client, such as presigned GETs)."""
    if not (tracing_enabled() and trace.get_current_span().is_recording()):
        yield
        return
    attributes = {
        "rpc.system": "aws-api",
        "rpc.service": "S3",
        "rpc.method": operation_name,
        "aws.s3.bucket": str(api_params.get("Bucket", "")),
    }
    if "Key" in api_params:
        attributes["aws.s3.key"] = str(api_params["Key"])
    with tracer().start_as_current_span(
        f"S3.{operation_name}", kind=SpanKind.CLIENT, attributes=attributes
    ):
        yield


def trace_s3_client(client: Any) -> Any:
    """Give `client` a span per call when tracing is on; returns the same client."""
    if not tracing_enabled():
        return client
    original: ApiCall = client._make_api_call

    async def traced(operation_name: str, api_params: dict[str, Any]) -> Any:
        with s3_span(operation_name, api_params):
            return await original(operation_name, api_params)

    client._make_api_call = traced
    return client
