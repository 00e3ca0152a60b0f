"""Runs a service's ASGI app under uvicorn until SIGTERM/SIGINT, then stops cleanly."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from modelgate_shared.settings import ServiceSettings


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises the signal after a graceful shutdown, so the process ends "killed
        # by SIGTERM". We exit 0 instead: supervisors and tests can then tell a clean stop
        # (drained, committed) from a crash.
        previous = {
            sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # our JSON logging is already configured
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    _Server(config).run()
