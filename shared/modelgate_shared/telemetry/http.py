"""HTTP telemetry of every service's FastAPI app: request metrics always, server spans when
tracing is on. Probes and scrapes (/healthz, /readyz, /metrics) make no spans.

Server spans come from FastAPI's native telemetry (`FastAPI(telemetry=...)`), which makes one
`POST /route` span per request from the tracer provider `setup_telemetry` installs, and
nothing at all while none is installed. It replaced OpenTelemetry's ASGI instrumentation: one
mechanism and three packages fewer, and the span carries the current HTTP semantic conventions
(`http.request.method`, `http.route`, `http.response.status_code`, `url.path`). Request
metrics and logs stay ours (Prometheus, JSON logs), so FastAPI's own are off, and so are its
per-operation spans (dependency resolution, endpoint, serialisation): more spans per request
that say little the route span does not."""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelgate_shared.telemetry.metrics import HTTP_DURATION, HTTP_REQUESTS, exemplar
from modelgate_shared.telemetry.tracing import tracer_provider, tracing_enabled

UNTRACED = frozenset({"/healthz", "/readyz", "/metrics"})


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in UNTRACED


def telemetry_config() -> TelemetryConfig:
    """`FastAPI(telemetry=...)`: server spans from the provider `setup_telemetry` installed
    (none while tracing is off, and then FastAPI's telemetry steps aside entirely)."""
    provider = tracer_provider()
    return {
        "tracing": provider is not None,
        "tracer_provider": provider,
        "operation_spans": False,
        "metrics": False,
        "logs": False,
        "exclude": _untraced,
    }


class RequestMetrics:
    """Pure ASGI middleware: counts and times requests by route template (never raw paths,
    whose ids would make a time series per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            counter, duration = self._series(scope.get("method", ""), template, status)
            counter.inc()
            # No span to link while tracing is off: skip looking for one.
            duration.observe(time.perf_counter() - began, exemplar() if tracing_enabled() else None)

    def _series(self, method: str, template: str, status: int) -> tuple[Any, Any]:
        """The labelled counter and histogram of a request, looked up once per label set:
        `labels()` takes a lock and builds its key on every call, a few percent of a catalog
        read. Label sets are bounded (methods × route templates × statuses)."""
        key = (method, template, status)
        found = self._children.get(key)
        if found is None:
            found = (
                HTTP_REQUESTS.labels(method, template, str(status)),
                HTTP_DURATION.labels(method, template),
            )
            self._children[key] = found
        return found


def instrument_app(app: FastAPI) -> None:
    """Request metrics; spans come from `FastAPI(telemetry=telemetry_config())`."""
    app.add_middleware(RequestMetrics)
