"""Liveness and readiness.

`/healthz` says the process runs (for restarts); `/readyz` runs each dependency check the
service registered (for traffic), so an orchestrator can tell "dead" from "waiting for Kafka".
Neither needs a token: probes carry none, and both answers reveal nothing but up/down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

Check = Callable[[], Awaitable[None]]


@dataclass
class Readiness:
    """Named async checks; each raises when its dependency is not usable."""

    timeout_s: float = 2.0
    checks: dict[str, Check] = field(default_factory=dict)

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    async def run(self) -> dict[str, str]:
        async def one(check: Check) -> str:
            try:
                await asyncio.wait_for(check(), self.timeout_s)
            except Exception as exc:  # a failed check is an answer, not an error
                return f"failed: {type(exc).__name__}: {exc}"[:300]
            return "ok"

        names = list(self.checks)
        results = await asyncio.gather(*(one(self.checks[n]) for n in names))
        return dict(zip(names, results, strict=True))


router = APIRouter(tags=["health"])
_started = time.monotonic()


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, object]:
    return {
        "status": "ok",
        "service": request.app.title,
        "uptime_s": round(time.monotonic() - _started, 1),
    }


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    readiness: Readiness = request.app.state.readiness
    results = await readiness.run()
    ready = all(v == "ok" for v in results.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": results},
        status_code=200 if ready else 503,
    )
