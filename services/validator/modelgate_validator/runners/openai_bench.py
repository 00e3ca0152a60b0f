"""The serving benchmark: the workload sent as streaming `/v1/completions` to any
OpenAI-compatible server (vLLM, llama.cpp, …), with TTFT, inter-token and end-to-end latency
measured per request on the client side.

Each level is closed-loop: `concurrency` workers each send their next request as soon as the
previous one finished, so exactly that many are in flight until the prompts run out.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from modelgate_shared.events import BenchmarkRun
from modelgate_validator.runners.percentiles import RequestTiming, level_run
from modelgate_validator.runners.workload import Workload


@dataclass(frozen=True)
class LevelTimes:
    """When a level ran, on the wall clock (`time.time()`), to find the server's own timings."""

    began: float
    ended: float


class ServerFigures(Protocol):
    """The server's own account of each level, where a runner can read one."""

    async def begin(self) -> None: ...

    async def end(self, times: LevelTimes, requests: int) -> float | None:
        """Output tokens/s of the level just finished, by the server's timings."""


class OpenAIServingBenchmark:
    def __init__(
        self,
        base_url: str,
        model: str,
        workload: Workload,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.workload = workload
        self.transport = transport

    def body(self, prompt: str) -> dict[str, Any]:
        w = self.workload
        return {
            "model": self.model,
            "prompt": prompt,
            "max_tokens": w.output_tokens,
            # Fixed output length: vLLM honours `ignore_eos`, llama.cpp and vLLM `min_tokens`.
            "min_tokens": w.output_tokens,
            "ignore_eos": True,
            "temperature": 0.0,
            "seed": w.seed,
            "stream": True,
            "stream_options": {"include_usage": True},
        }

    async def run(self, server_figures: ServerFigures | None = None) -> list[BenchmarkRun]:
        top = max(self.workload.concurrency)
        limits = httpx.Limits(max_connections=top, max_keepalive_connections=top)
        timeout = httpx.Timeout(self.workload.request_timeout_s, connect=10.0)
        async with httpx.AsyncClient(
            base_url=self.base_url, limits=limits, timeout=timeout, transport=self.transport
        ) as c:
            for prompt in self.workload.warmup_prompts():
                await self.request(c, prompt)
            runs = []
            for concurrency in self.workload.concurrency:
                if server_figures is not None:
                    await server_figures.begin()
                timings, times = await self.level(c, concurrency)
                figure = None
                if server_figures is not None:
                    figure = await server_figures.end(times, len(timings))
                runs.append(level_run(concurrency, timings, times.ended - times.began, figure))
            return runs

    async def level(
        self, client: httpx.AsyncClient, concurrency: int
    ) -> tuple[list[RequestTiming], LevelTimes]:
        prompts = iter(self.workload.prompts(concurrency))
        timings: list[RequestTiming] = []

        async def worker() -> None:
            for prompt in prompts:  # shared iterator: each prompt is taken by one worker
                timings.append(await self.request(client, prompt))

        began = time.time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return timings, LevelTimes(began, time.time())

    async def request(self, client: httpx.AsyncClient, prompt: str) -> RequestTiming:
        sent = time.perf_counter()
        events: list[float] = []
        usage_tokens: int | None = None
        try:
            async with (
                asyncio.timeout(self.workload.request_timeout_s),
                client.stream("POST", "/v1/completions", json=self.body(prompt)) as answer,
            ):
                if answer.status_code != 200:
                    text = (await answer.aread()).decode("utf-8", "replace")
                    return RequestTiming(ok=False, error=f"HTTP {answer.status_code}: {text[:200]}")
                async for line in answer.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[len("data:") :].strip()
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    if "error" in chunk:
                        return RequestTiming(ok=False, error=f"server error: {chunk['error']}")
                    choices = chunk.get("choices") or []
                    if choices and choices[0].get("text"):
                        events.append(time.perf_counter())
                    usage = chunk.get("usage") or {}
                    if usage.get("completion_tokens") is not None:
                        usage_tokens = int(usage["completion_tokens"])
        except (httpx.HTTPError, TimeoutError, ValueError) as exc:
            return RequestTiming(ok=False, error=f"{type(exc).__name__}: {exc}"[:300])
        ended = time.perf_counter()
        if not events:
            return RequestTiming(ok=False, error="the stream ended without a token")
        return RequestTiming(
            ok=True,
            ttft_s=events[0] - sent,
            itl_s=[b - a for a, b in itertools.pairwise(events)],
            e2e_s=ended - sent,
            # Servers that report usage count tokens; otherwise each text event is one token.
            output_tokens=usage_tokens if usage_tokens is not None else len(events),
        )
