"""The statistics the benchmarks print their verdicts with."""

import math
import statistics

import pytest

from bench.harness import Interval, mean_interval
from bench.tracing_overhead import verdict


def test_mean_interval_is_students_t_for_a_few_rounds() -> None:
    # sd 1.581, standard error 0.707, t(4 degrees of freedom) = 2.776
    got = mean_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert got.mean == 3.0
    assert got.low == pytest.approx(1.037, abs=1e-3)
    assert got.high == pytest.approx(4.963, abs=1e-3)


def test_mean_interval_beyond_the_table_errs_wide() -> None:
    samples = [float(i % 7) for i in range(100)]
    got = mean_interval(samples)
    # t(30), a little above the exact t(99) = 1.984
    half = 2.042 * statistics.stdev(samples) / 10
    assert got.high - got.mean == pytest.approx(half)


def test_one_sample_has_no_interval() -> None:
    got = mean_interval([0.04])
    assert got.mean == 0.04
    assert math.isnan(got.low)
    assert math.isnan(got.high)


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (Interval(0.05, 0.02, 0.08), "met"),
        (Interval(0.12, 0.10, 0.14), "missed"),
        (Interval(0.08, 0.05, 0.11), "not settled by 5 round(s)"),
        # One round settles nothing.
        (Interval(0.02, math.nan, math.nan), "not settled by 5 round(s)"),
    ],
)
def test_verdict_needs_the_whole_interval_on_one_side(interval: Interval, expected: str) -> None:
    assert verdict(interval, 5) == expected
