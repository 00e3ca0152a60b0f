"""HTTP telemetry of every service's FastAPI app: request metrics always, server spans when
tracing is on. Probes and scrapes (/healthz, /readyz, /metrics) make no spans."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelgate_shared.telemetry.metrics import HTTP_DURATION, HTTP_REQUESTS, exemplar
from modelgate_shared.telemetry.tracing import tracing_enabled

UNTRACED = "/healthz,/readyz,/metrics"


class RequestMetrics:
    """Pure ASGI middleware: counts and times requests by route template (never raw paths,
    whose ids would make a time series per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
            method = scope.get("method", "")
            HTTP_REQUESTS.labels(method, template, str(status)).inc()
            HTTP_DURATION.labels(method, template).observe(time.perf_counter() - began, exemplar())


def instrument_app(app: FastAPI) -> None:
    app.add_middleware(RequestMetrics)
    if tracing_enabled():
        # No span per ASGI message: a streamed upload would make thousands.
        FastAPIInstrumentor.instrument_app(
            app, excluded_urls=UNTRACED, exclude_spans=["receive", "send"]
        )
