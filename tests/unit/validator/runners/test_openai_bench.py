"""The benchmark client against a scripted OpenAI-compatible endpoint (httpx's mock transport):
what it sends, how it reads a stream, what counts as a failure, how levels are driven."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping

import httpx
import pytest

from modelgate_validator.runners.openai_bench import LevelTimes, OpenAIServingBenchmark
from modelgate_validator.runners.percentiles import RequestTiming
from modelgate_validator.runners.workload import Workload


def sse(*chunks: Mapping[str, object], done: bool = True) -> bytes:
    lines = [f"data: {json.dumps(c)}\n\n" for c in chunks]
    return ("".join(lines) + ("data: [DONE]\n\n" if done else "")).encode()


def text(t: str) -> dict[str, object]:
    return {"choices": [{"text": t, "index": 0, "finish_reason": None}]}


def bench(handler: object, workload: Workload | None = None) -> OpenAIServingBenchmark:
    return OpenAIServingBenchmark(
        "http://server",
        "tiny",
        workload or Workload(prompt_tokens=4, output_tokens=3, concurrency=(1,)),
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
    )


async def one(b: OpenAIServingBenchmark) -> RequestTiming:
    async with httpx.AsyncClient(base_url=b.base_url, transport=b.transport) as client:
        return await b.request(client, "the of and to")


async def test_the_request_asks_for_a_fixed_length_stream() -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/completions"
        seen.append(json.loads(request.content))
        return httpx.Response(200, content=sse(text(" a"), text(" b"), text(" c")))

    timing = await one(bench(handler))
    body = seen[0]
    assert body["model"] == "tiny"
    assert body["prompt"] == "the of and to"
    assert body["max_tokens"] == body["min_tokens"] == 3
    assert body["ignore_eos"] is True
    assert body["stream"] is True
    assert body["temperature"] == 0.0
    assert body["stream_options"] == {"include_usage": True}
    assert timing.ok
    assert timing.output_tokens == 3
    assert len(timing.itl_s) == 2


async def test_usage_from_the_server_is_the_token_count_when_it_is_given() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        # vLLM: a final chunk with no choices and the usage; here two tokens came in one event.
        usage = {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 4}}
        return httpx.Response(200, content=sse(text(" a"), text(" bc"), text(" d"), usage))

    timing = await one(bench(handler))
    assert timing.output_tokens == 4


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(503, content=b"loading"), "HTTP 503: loading"),
        (httpx.Response(200, content=sse({"error": {"message": "oom"}})), "server error"),
        (httpx.Response(200, content=sse(text(""))), "the stream ended without a token"),
        (httpx.Response(200, content=b"data: {not json\n\n"), "JSONDecodeError"),
    ],
)
async def test_failures_are_counted_with_their_reason(response: httpx.Response, error: str) -> None:
    timing = await one(bench(lambda _: response))
    assert not timing.ok
    assert error in (timing.error or "")


async def test_a_broken_connection_is_a_failure_not_a_crash() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    timing = await one(bench(handler))
    assert not timing.ok
    assert "ConnectError" in (timing.error or "")


async def test_each_level_keeps_exactly_its_concurrency_in_flight() -> None:
    in_flight = 0
    most: dict[str, int] = {}
    level = ""

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight
        in_flight += 1
        most[level] = max(most.get(level, 0), in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, content=sse(text(" a"), text(" b")))

    class Figures:
        def __init__(self) -> None:
            self.calls: list[tuple[str, int]] = []

        async def begin(self) -> None:
            nonlocal level
            level = f"level{len(self.calls) // 2}"
            self.calls.append(("begin", 0))

        async def end(self, times: LevelTimes, requests: int) -> float | None:
            assert times.ended >= times.began
            self.calls.append(("end", requests))
            return 1.5

    workload = Workload(
        prompt_tokens=4, output_tokens=2, concurrency=(1, 3), rounds=2, min_requests=4
    )
    figures = Figures()
    runs = await bench(handler, workload).run(figures)
    assert [(r.concurrency, r.requests, r.failures) for r in runs] == [(1, 4, 0), (3, 6, 0)]
    assert most == {"": 1, "level0": 1, "level1": 3}  # "": the warm-up request
    assert figures.calls == [("begin", 0), ("end", 4), ("begin", 0), ("end", 6)]
    assert all(r.server_output_tokens_per_s == 1.5 for r in runs)
    assert all(r.output_tokens == 2 * r.requests for r in runs)


def test_the_workload_is_the_same_for_the_same_seed() -> None:
    a, b = Workload(seed=7, prompt_tokens=16), Workload(seed=7, prompt_tokens=16)
    assert a.prompts(8) == b.prompts(8)
    assert len(a.prompts(8)) == 32
    assert all(len(p.split()) == 16 for p in a.prompts(8))
    assert Workload(seed=8, prompt_tokens=16).prompts(8) != a.prompts(8)
    assert a.warmup_prompts()[0] not in a.prompts(1)
    assert a.describe()["requests_per_level"] == "8,32,128"
