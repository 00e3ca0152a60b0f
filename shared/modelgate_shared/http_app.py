"""The FastAPI application every service starts from: errors, health, metrics, auth wiring."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder

from modelgate_shared.auth import Permission, Principal, TokenVerifier, require
from modelgate_shared.errors import install_error_handlers
from modelgate_shared.health import Readiness
from modelgate_shared.health import router as health_router
from modelgate_shared.http_guard import BodyLimits, RequestGuard, document_refusals
from modelgate_shared.http_hygiene import HttpHygiene
from modelgate_shared.telemetry.http import instrument_app, telemetry_config

DOCS_NOTE = (
    "\n\nThe OpenAPI document is at `/openapi.json`; interactive pages (/docs, /redoc) are "
    "off because FastAPI's load their scripts from a CDN. Open the document in any OpenAPI "
    "viewer. Limits on requests are in docs/limits.md."
)
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(
    *,
    title: str,
    version: str,
    verifier: TokenVerifier,
    readiness: Readiness,
    lifespan: Lifespan | None = None,
    description: str = "",
    body_limits: BodyLimits | None = None,
) -> FastAPI:
    app = FastAPI(
        title=title,
        version=version,
        description=description + DOCS_NOTE,
        lifespan=lifespan,
        telemetry=telemetry_config(),
        # FastAPI's /docs and /redoc pages load their JavaScript from a CDN: blank offline,
        # and unpinned third-party code running beside a bearer token. Off, until the assets
        # can be served from a pinned package; /openapi.json stays.
        docs_url=None,
        redoc_url=None,
    )
    app.state.token_verifier = verifier
    app.state.readiness = readiness
    install_error_handlers(app)
    app.include_router(health_router)
    instrument_app(app)
    app.add_middleware(RequestGuard, limits=body_limits)
    # Outermost: a HEAD refused by the guard loses its body too, and every answer, errors
    # included, gets the headers.
    app.add_middleware(HttpHygiene)
    document_refusals(app)

    @app.get("/metrics", tags=["health"], response_class=Response)
    async def metrics(
        request: Request,
        _: Annotated[Principal, Depends(require(Permission.METRICS_READ))],
    ) -> Response:
        # Prometheus text, or OpenMetrics (with exemplars) when the scraper asks for it.
        encode, media_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(REGISTRY), media_type=media_type)

    return app


async def no_lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield
