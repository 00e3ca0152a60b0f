"""SQL statement spans for asyncpg, made after the fact and only where they are worth it.

Each statement run inside a sampled trace is timed; it becomes a `SELECT`/`INSERT`/… client
span (with the statement text) when it took at least `MODELGATE_TRACE_SQL_MIN_MS`, or failed.
Quick statements, the bulk of them, then cost two clock reads instead of a span each: what
OpenTelemetry's asyncpg instrumentation costs (a span per statement, created up front) was
the largest part of tracing's overhead in `bench/tracing_overhead.py`. With the threshold at
0 every statement is recorded, as that instrumentation would.

The default, 5 ms, keeps the statements worth looking at. Under full load in that bench our
statements took 0.3 to 1.3 ms at the median, and only 3 to 11% took 5 ms or more. At 1 ms a
third or more of them still became spans.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asyncpg.connection import Connection
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer, TracerProvider

METHODS = ("execute", "executemany", "fetch", "fetchval", "fetchrow", "fetchmany")
MAX_STATEMENT = 2000
_MARK = "_modelgate_traced"

Method = Callable[..., Awaitable[Any]]


def instrument_asyncpg(min_ms: float, provider: TracerProvider) -> None:
    """Wrap asyncpg's statement methods (once per process)."""
    spans = provider.get_tracer("modelgate.sql")
    min_ns = int(min_ms * 1_000_000)
    for name in METHODS:
        original = getattr(Connection, name)
        if not getattr(original, _MARK, False):
            setattr(Connection, name, traced_statement(original, min_ns, spans))


def traced_statement(original: Method, min_ns: int, spans: Tracer) -> Method:
    """`original` (a Connection method taking the statement first), recording a span for
    each call inside a sampled trace that takes `min_ns` or longer, or fails."""

    @functools.wraps(original)
    async def traced(self: Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        if not trace.get_current_span().is_recording():
            return await original(self, query, *args, **kwargs)
        began = time.time_ns()
        failed: Exception | None = None
        try:
            return await original(self, query, *args, **kwargs)
        except Exception as exc:
            failed = exc
            raise
        finally:
            ended = time.time_ns()
            if failed is not None or ended - began >= min_ns:
                _record(spans, self, query, began=began, ended=ended, failed=failed)

    setattr(traced, _MARK, True)
    return traced


def _record(
    spans: Tracer,
    conn: Connection,
    query: str,
    *,
    began: int,
    ended: int,
    failed: Exception | None,
) -> None:
    params = getattr(conn, "_params", None)
    addr = getattr(conn, "_addr", None)
    attributes: dict[str, str | int] = {
        "db.system.name": "postgresql",
        "db.query.text": query[:MAX_STATEMENT],
    }
    if params is not None and getattr(params, "database", None):
        attributes["db.namespace"] = params.database
    if isinstance(addr, tuple):
        attributes["server.address"], attributes["server.port"] = str(addr[0]), int(addr[1])
    words = query.split(None, 1)
    span = spans.start_span(
        words[0].upper() if words else "SQL",
        kind=SpanKind.CLIENT,
        start_time=began,
        attributes=attributes,
    )
    if failed is not None:
        span.set_status(Status(StatusCode.ERROR, type(failed).__name__))
        span.set_attribute("error.type", type(failed).__qualname__)
    span.end(end_time=ended)
