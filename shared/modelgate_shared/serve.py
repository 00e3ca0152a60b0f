"""Runs a service's ASGI app under uvicorn until SIGTERM/SIGINT, then stops cleanly; SIGUSR1
logs what each asyncio task awaits (see `task_dump`)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from modelgate_shared.http_protocol import with_header_timeout
from modelgate_shared.settings import ServiceSettings
from modelgate_shared.task_dump import dump_tasks


class _Server(uvicorn.Server):
    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # Everything built while starting (modules, FastAPI routes, pydantic schemas, clients)
        # lives as long as the process. Frozen, the collector stops rescanning it: unfrozen,
        # each full collection walked it all and stalled every request for 50-90 ms while
        # freeing nothing (measured on the registry under read load).
        gc.freeze()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises the signal after a graceful shutdown, so the process ends "killed
        # by SIGTERM". We exit 0 instead: supervisors and tests can then tell a clean stop
        # (drained, committed) from a crash.
        previous = {
            sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGUSR1, dump_tasks)
        try:
            yield
        finally:
            loop.remove_signal_handler(signal.SIGUSR1)
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
        # Bounded reads: headers within a deadline, idle keep-alive connections closed.
        http=with_header_timeout(settings.http_header_timeout_s),
        timeout_keep_alive=max(1, round(settings.http_idle_timeout_s)),
        # Not uvloop: on a socket the broker closed, uvloop raises RuntimeError where aiokafka
        # handles only OSError (aio-libs/aiokafka#1038); after a Kafka restart that ended a
        # consumer's group coordination for good (a fault run). Measured cost of the plain
        # loop: 343.5 vs 362.2 registrations/s at maximum rate (bench/pipeline), within noise.
        loop="asyncio",
    )
    profile_dir = os.environ.get("MODELGATE_CPROFILE_DIR")
    if not profile_dir:
        _Server(config).run()
        return
    # A measuring switch (bench/pipeline.py --profile): the whole process under cProfile,
    # its stats written to <dir>/<service>.prof (pstats format) at a clean stop.
    import cProfile  # noqa: PLC0415 (only when asked for)
    import time  # noqa: PLC0415

    profiler = cProfile.Profile(time.process_time)  # CPU time: the machine is shared
    profiler.enable()
    try:
        _Server(config).run()
    finally:
        profiler.disable()
        profiler.dump_stats(os.path.join(profile_dir, f"{settings.service_name}.prof"))
