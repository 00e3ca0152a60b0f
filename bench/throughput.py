"""Throughput of one file through Modelgate against a baseline on the same file.

The JSON result `bench.ingest_upload` and `bench.validator_hashing` write (`--json FILE`) and
`bench.report` reads.
"""

from __future__ import annotations

from typing import Any


def side(label: str, size_mib: int, seconds: list[float]) -> dict[str, Any]:
    """One side's runs: their times and the best run's MiB/s."""
    return {
        "label": label,
        "seconds": [round(s, 3) for s in seconds],
        "best_s": round(min(seconds), 3),
        "mib_per_s": round(size_mib / min(seconds), 1),
    }


def result(
    bench: str,
    run: dict[str, Any],
    *,
    size_mib: int,
    ours: dict[str, Any],
    baseline: dict[str, Any],
    peak_rss_mib: float,
    peak_rss_of: str,
) -> dict[str, Any]:
    """The result document: `run` is `harness.run_info()`; `ratio` is ours over the baseline's
    throughput (best runs), above 1 when Modelgate is faster."""
    return {
        "bench": bench,
        "run": run,
        "size_mib": size_mib,
        "ours": ours,
        "baseline": baseline,
        "ratio": round(baseline["best_s"] / ours["best_s"], 3),
        "peak_rss_mib": round(peak_rss_mib, 1),
        "peak_rss_of": peak_rss_of,
    }
