"""The one-file throughput benches' --json results: the shape `bench.report` reads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench import ingest_upload, report, validator_hashing


@pytest.mark.parametrize(
    ("summary", "bench"),
    [(ingest_upload.summary, "ingest_upload"), (validator_hashing.summary, "validator_hashing")],
)
def test_a_result_names_its_bench_run_and_both_sides(summary: Any, bench: str) -> None:
    # 1024 MiB: ours best 4 s (256 MiB/s), the baseline's best 2 s (512 MiB/s).
    result = summary(1024, [5.0, 4.0], [2.0, 2.5], 123.45)
    assert result["bench"] == bench
    assert set(result["run"]) == {"measured_at", "commit", "cores", "load_average"}
    assert result["size_mib"] == 1024
    assert result["ours"]["seconds"] == [5.0, 4.0]
    assert result["ours"]["mib_per_s"] == 256.0
    assert result["baseline"]["mib_per_s"] == 512.0
    assert result["ratio"] == 0.5
    assert result["peak_rss_mib"] == 123.5
    assert result["ours"]["label"] != result["baseline"]["label"]
    assert json.loads(json.dumps(result)) == result


def test_the_report_renders_a_row_per_throughput_result_and_skips_other_benches() -> None:
    upload = ingest_upload.summary(2048, [8.0], [4.0], 80.0)
    upload["run"] = {"measured_at": "2026-12-07T12:00:00+00:00", "commit": "abc1234"}
    upload["run"]["load_average"] = [1.25]
    hashing = validator_hashing.summary(2048, [2.0], [4.0], 40.0)
    section, charts = report.render([upload, hashing, {"bench": "tracing_overhead"}])
    rows = [line for line in section.splitlines() if line.startswith(("| 1 ", "| 2 "))]
    assert len(rows) == 2
    assert rows[0].startswith("| 1 | 2026-12-07 12:00 | abc1234 | 1.2 | ingest_upload | 2048 MiB")
    assert "| 256.0 MiB/s (through ingest" in rows[0]
    assert "| 0.50 | 80 MiB (ingest) |" in rows[0]
    assert "| validator_hashing |" in rows[1]
    assert "| 2.00 |" in rows[1]
    assert charts == {}
    assert "The gate's CPU" not in section


def test_with_no_result_a_bench_reads_the_report_says_so() -> None:
    section, charts = report.render([{"bench": "tracing_overhead"}])
    assert "(no results under bench/results/ yet)" in section
    assert charts == {}
