"""A closed-loop HTTP load generator: N concurrent clients, each sending its next request when
the last one answered, for a fixed time. Latency of every request after the warm-up counts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from bench.harness import percentiles


@dataclass
class Result:
    requests: int
    failures: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def line(self, label: str) -> str:
        p = percentiles(self.latencies_ms)
        return (
            f"{label:<44} {self.rps:9.1f} req/s   p50 {p['p50']:7.2f} ms   "
            f"p99 {p['p99']:7.2f} ms   failures {self.failures}"
        )


async def run_load(
    next_url: Callable[[], str],
    *,
    concurrency: int,
    seconds: float,
    warmup_s: float = 1.0,
    headers: dict[str, str] | None = None,
) -> Result:
    latencies: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        began = time.perf_counter()
        measure_from = began + warmup_s
        stop_at = measure_from + seconds

        async def client() -> None:
            nonlocal failures
            while (now := time.perf_counter()) < stop_at:
                try:
                    async with session.get(next_url()) as answer:
                        await answer.read()
                        ok = answer.status == 200
                except aiohttp.ClientError:
                    ok = False
                done = time.perf_counter()
                if now >= measure_from:
                    if ok:
                        latencies.append((done - now) * 1000)
                    else:
                        failures += 1

        await asyncio.gather(*(client() for _ in range(concurrency)))
    return Result(len(latencies), failures, seconds, latencies)
