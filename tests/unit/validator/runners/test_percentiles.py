"""The benchmark's statistics: percentiles as numpy computes them, and one level's figures."""

from __future__ import annotations

import numpy as np
import pytest

from modelgate_validator.runners.percentiles import (
    RequestTiming,
    level_run,
    percentile,
    summarise_ms,
)


@pytest.mark.parametrize("q", [0, 1, 50, 95, 99, 100])
@pytest.mark.parametrize("n", [1, 2, 7, 100, 1001])
def test_percentile_matches_numpy_linear_interpolation(q: float, n: int) -> None:
    values = list(np.random.default_rng(n).exponential(0.2, n))
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_summary_is_in_milliseconds() -> None:
    summary = summarise_ms([0.1, 0.2, 0.3, 0.4, 1.0])
    assert summary.p50_ms == 300.0
    assert summary.p95_ms == pytest.approx(880.0)
    assert summary.p99_ms == pytest.approx(976.0)


def test_level_figures_count_only_successful_requests() -> None:
    timings = [
        RequestTiming(ok=True, ttft_s=0.1, itl_s=[0.01, 0.02], e2e_s=0.13, output_tokens=3),
        RequestTiming(ok=True, ttft_s=0.3, itl_s=[0.03], e2e_s=0.33, output_tokens=2),
        RequestTiming(ok=False, error="HTTP 500: boom"),
    ]
    run = level_run(2, timings, duration_s=0.5, server_output_tokens_per_s=9.5)
    assert run.concurrency == 2
    assert run.requests == 3
    assert run.failures == 1
    assert run.output_tokens == 5
    assert run.output_tokens_per_s == 10.0
    assert run.requests_per_s == 4.0
    assert run.ttft.p50_ms == pytest.approx(200.0)
    assert run.itl.p50_ms == pytest.approx(20.0)
    assert run.e2e.p99_ms == pytest.approx(328.0)
    assert run.server_output_tokens_per_s == 9.5


def test_a_level_where_everything_failed_reports_zeros_and_the_failures() -> None:
    run = level_run(8, [RequestTiming(ok=False, error="x")] * 8, duration_s=1.0)
    assert run.failures == run.requests == 8
    assert run.output_tokens_per_s == 0.0
    assert run.ttft.p99_ms == 0.0
