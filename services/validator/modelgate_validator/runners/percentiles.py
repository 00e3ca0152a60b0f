"""Latency percentiles and the figures of one concurrency level, from per-request timings."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from modelgate_shared.events import BenchmarkRun, LatencyPercentiles


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between closest ranks: numpy's
    default method, so figures match what `numpy.percentile` would say."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise_ms(seconds: Sequence[float]) -> LatencyPercentiles:
    if not seconds:
        return LatencyPercentiles(p50_ms=0.0, p95_ms=0.0, p99_ms=0.0)
    return LatencyPercentiles(
        p50_ms=round(percentile(seconds, 50) * 1000, 3),
        p95_ms=round(percentile(seconds, 95) * 1000, 3),
        p99_ms=round(percentile(seconds, 99) * 1000, 3),
    )


@dataclass
class RequestTiming:
    """What the client saw of one streamed request (times in seconds from its send)."""

    ok: bool
    ttft_s: float | None = None
    itl_s: list[float] = field(default_factory=list)
    """Gaps between successive token events after the first."""
    e2e_s: float | None = None
    output_tokens: int = 0
    error: str | None = None


def level_run(
    concurrency: int,
    timings: Sequence[RequestTiming],
    duration_s: float,
    server_output_tokens_per_s: float | None = None,
) -> BenchmarkRun:
    ok = [t for t in timings if t.ok]
    tokens = sum(t.output_tokens for t in ok)
    return BenchmarkRun(
        concurrency=concurrency,
        requests=len(timings),
        failures=len(timings) - len(ok),
        duration_s=round(duration_s, 4),
        output_tokens=tokens,
        output_tokens_per_s=round(tokens / duration_s, 3) if duration_s > 0 else 0.0,
        requests_per_s=round(len(ok) / duration_s, 4) if duration_s > 0 else 0.0,
        ttft=summarise_ms([t.ttft_s for t in ok if t.ttft_s is not None]),
        itl=summarise_ms([gap for t in ok for gap in t.itl_s]),
        e2e=summarise_ms([t.e2e_s for t in ok if t.e2e_s is not None]),
        server_output_tokens_per_s=server_output_tokens_per_s,
    )
