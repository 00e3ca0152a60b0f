"""A benchmarked version in the browser: the validator's llama.cpp runner measures a tiny GGUF
model on CPU, and the version page and the compare view draw the numbers as SVG charts."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect

from modelgate_testkit.factories import GOOD_CARD
from modelgate_testkit.gguf_model import write_tiny_llama
from modelgate_testkit.namespace import Namespace
from modelgate_testkit.services import ServiceProcess
from tests.e2e.browser.conftest import OpenCatalog
from tests.support.browser import ROOT
from tests.support.gate import Gate, upload, wait_for_status

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

NAME = "web-bench"
# The CPU benchmark test's workload: small enough for two cores.
WORKLOAD = {
    "MODELGATE_BENCHMARK_RUNNERS": "llama-cpp",
    "MODELGATE_BENCHMARK_PROMPT_TOKENS": "32",
    "MODELGATE_BENCHMARK_OUTPUT_TOKENS": "32",
    "MODELGATE_BENCHMARK_CONCURRENCY": "1,4",
    "MODELGATE_BENCHMARK_ROUNDS": "2",
    "MODELGATE_BENCHMARK_MIN_REQUESTS": "4",
    "MODELGATE_LLAMA_CPP_THREADS": "1",
}
SCREENSHOTS = os.environ.get("MODELGATE_DOCS_SCREENSHOTS")
"""Set (to 1) to write the README's screenshots to docs/images/."""


@pytest.fixture(scope="module")
async def benchmarking(
    gate: Gate, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServiceProcess]:
    """The gate's validator, for this module, with the llama.cpp runner (the session's
    validator has none); the usual one comes back afterwards."""
    work = tmp_path_factory.mktemp("web-bench")
    env = {**gate["validator"].env, **WORKLOAD, "MODELGATE_VALIDATOR_WORK_DIR": str(work)}
    await asyncio.to_thread(gate["validator"].stop)
    validator = ServiceProcess("validator", env, work / "logs")
    await asyncio.to_thread(validator.start)
    try:
        yield validator
    finally:
        await asyncio.to_thread(validator.stop)
        await asyncio.to_thread(gate["validator"].start)


@pytest.fixture(scope="module")
async def benchmarked(
    gate: Gate,
    namespace: Namespace,
    benchmarking: ServiceProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> list[str]:
    """Two benchmarked versions of one GGUF model (different weights, so different numbers)."""
    versions = []
    for version, layers in (("1.0.0", 2), ("1.1.0", 4)):
        path = tmp_path_factory.mktemp("gguf") / "model.gguf"
        model = await asyncio.to_thread(write_tiny_llama, path, layers=layers)
        meta = {
            "name": NAME,
            "version": version,
            "model_card": {
                **GOOD_CARD.model_dump(exclude_none=True),
                "framework": "llama.cpp",
                "description": f"A tiny llama with **{layers} layers**, benchmarked on CPU.",
                "metrics": {"perplexity": 10.0 + layers},
            },
        }
        files = [("model.gguf", model.read_bytes())]
        answer = await upload(gate, namespace, json.dumps(meta), files)
        assert answer.status_code == 202, answer.text
        detail = await wait_for_status(
            gate, namespace, NAME, version, {"REGISTERED", "REJECTED"}, timeout_s=300
        )
        assert detail["status"] == "REGISTERED", detail["status_reason"]
        assert detail["benchmark"] is not None, detail["validation"]
        versions.append(version)
    return versions


async def test_the_benchmark_is_drawn_as_charts_on_the_version_page(
    benchmarked: list[str], catalog: OpenCatalog
) -> None:
    developer = await catalog("developer")
    await developer.open(f"#/models/{NAME}/versions/{benchmarked[0]}")
    charts = developer.page.locator("figure.chart svg")
    await expect(charts).to_have_count(2)
    throughput, latency = charts.nth(0), charts.nth(1)
    # One point per concurrency level (1 and 4): one line of throughput, three of TTFT.
    await expect(throughput.locator("polyline")).to_have_count(1)
    await expect(throughput.locator("circle")).to_have_count(2)
    await expect(latency.locator("polyline")).to_have_count(3)
    await expect(latency.locator("circle")).to_have_count(6)
    label = await throughput.get_attribute("aria-label")
    assert label is not None
    assert "tokens/s at concurrency 1" in label
    assert "at concurrency 4" in label
    runs = developer.page.get_by_role("table", name="Benchmark runs")
    await expect(runs.locator("tbody tr")).to_have_count(2)
    await expect(developer.page.get_by_role("region", name="Hardware")).to_contain_text("cpu")
    if SCREENSHOTS:
        benchmark = developer.page.get_by_role("region", name="Benchmark")
        await benchmark.evaluate("(section) => section.scrollIntoView({block: 'start'})")
        await developer.page.screenshot(path=str(ROOT / "docs/images/catalog-version.png"))


async def test_the_compare_view_sets_two_benchmarks_side_by_side(
    benchmarked: list[str], catalog: OpenCatalog
) -> None:
    viewer = await catalog("viewer")
    left, right = (f"{NAME}@{v}" for v in benchmarked)
    await viewer.open(f"#/compare?left={left}&right={right}")
    table = viewer.page.locator("table.compare-table")
    await expect(table.locator("tr", has_text="tokens/s at 4")).to_have_count(1)
    await expect(table.locator("tr.differs", has_text="perplexity")).to_contain_text("12")
    await expect(viewer.page.locator("figure.chart svg")).to_have_count(4)
    if SCREENSHOTS:
        metrics = table.locator("tr.group", has_text="metrics")
        await metrics.evaluate("(row) => row.scrollIntoView({block: 'start'})")
        await viewer.page.screenshot(path=str(ROOT / "docs/images/catalog-compare.png"))
