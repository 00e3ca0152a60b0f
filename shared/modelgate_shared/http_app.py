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
from modelgate_shared.telemetry.http import instrument_app, telemetry_config

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(
    *,
    title: str,
    version: str,
    verifier: TokenVerifier,
    readiness: Readiness,
    lifespan: Lifespan | None = None,
    description: str = "",
) -> FastAPI:
    app = FastAPI(
        title=title,
        version=version,
        description=description,
        lifespan=lifespan,
        telemetry=telemetry_config(),
    )
    app.state.token_verifier = verifier
    app.state.readiness = readiness
    install_error_handlers(app)
    app.include_router(health_router)
    instrument_app(app)

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
