"""Traces and metrics every service shares.

A composition root calls `setup_telemetry(settings, version=...)` once, first thing; the shared
builders (`create_broker`, `create_app`, `runtime.s3`, `EventConsumer`, the outbox) then trace
what they do when tracing is on, and do nothing extra when it is off.
"""

from modelgate_shared.telemetry.tracing import (
    current_trace_headers,
    current_trace_id,
    setup_telemetry,
    tracing_enabled,
)

__all__ = ["current_trace_headers", "current_trace_id", "setup_telemetry", "tracing_enabled"]
