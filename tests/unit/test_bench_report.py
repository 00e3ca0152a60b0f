"""bench/report.py: the performance figures in the docs come from the committed results."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from bench import report


def _result(when: str, services: float, infra: float) -> dict[str, Any]:
    per = {"validator": services / 2, "registry": services / 2, "postgres": infra, "kafka": 0.0}
    cpu = {
        "cpu_ms_per_registration": per,
        "services_ms": services,
        "infrastructure_ms": infra,
        "services_to_infrastructure": services / infra,
    }
    return {
        "bench": "pipeline",
        "run": {"measured_at": when, "commit": "abc1234", "cores": 2, "load_average": [3.5]},
        "maximum": {"registered_per_s": 80.0, "cpu": cpu, "rate": None},
        "fixed": {
            "registered_per_s": 40.0,
            "cpu": cpu,
            "rate": 40,
            "registered_latency": {"p50": 100.0, "p95": 300.0, "p99": 1234.0},
        },
    }


def test_each_run_is_a_row_and_each_chart_is_well_formed_svg() -> None:
    section, charts = report.render(
        [_result("2026-12-07T12:00:00+00:00", 6.0, 3.0), _result("2026-12-07T13:00:00", 4, 4)]
    )
    rows = [line for line in section.splitlines() if line.startswith("| 1 ") or "| 2 " in line]
    assert len(rows) == 2
    assert "| 2026-12-07 12:00 | abc1234 | 3.5 | 80.0/s |" in rows[0]
    assert "| 2.00 | 2.00 | 1,234 ms (40/s) |" in rows[0]
    assert "| 1.00 | 1.00 |" in rows[1]
    assert set(charts) == {"perf-pipeline-cpu.svg", "perf-pipeline-split.svg"}
    for svg in charts.values():
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg")
    assert "6.00 ms" in charts["perf-pipeline-split.svg"]


def _kubeflow(when: str) -> dict[str, Any]:
    def side(rps: float, p99: float, cpu: float) -> dict[str, float]:
        return {
            "rps_median": rps,
            "p50_ms_median": 1.0,
            "p99_ms_median": p99,
            "server_cpu_ms_median": cpu,
            "postgres_cpu_ms_median": 0.1,
        }

    return {
        "bench": "kubeflow_reads",
        "run": {"measured_at": when, "commit": "def5678", "cores": 2, "load_average": [1.0]},
        "conditions": {"loadavg_at_start": [0.5, 0, 0], "loadavg_at_end": [1.25, 0, 0]},
        "comparisons": [
            {
                "workload": "version-by-id",
                "concurrency": 1,
                "modelgate": side(1200.0, 2.5, 0.31),
                "upstream": side(1000.0, 3.0, 0.3),
                "ratios": [1.1, 1.2, 1.3],
                "ratio_median": 1.2,
            }
        ],
        "rss_mib": {"modelgate_peak": 110.25, "upstream_peak": 40.5},
    }


def test_a_kubeflow_run_is_a_row_per_workload_beside_the_pipeline() -> None:
    section, charts = report.render(
        [_result("2026-12-07T12:00:00+00:00", 6.0, 3.0), _kubeflow("2026-12-07T13:00:00")]
    )
    (row,) = [line for line in section.splitlines() if "version-by-id" in line]
    assert row.startswith("| 1 | 2026-12-07 13:00 | def5678 | 0.5/1.2 | version-by-id | 1 |")
    assert "| 1,200.0 | 1,000.0 | **1.20x** (1.10, 1.20, 1.30) | 2.50 / 3.00 |" in row
    assert row.endswith("| 0.31 + 0.10 | 0.30 + 0.10 | 110.2 / 40.5 |")
    assert "The gate's CPU" in section
    assert set(charts) == {"perf-pipeline-cpu.svg", "perf-pipeline-split.svg"}
    section, charts = report.render([_kubeflow("2026-12-07T13:00:00")])
    assert "version-by-id" in section
    assert "The gate's CPU" not in section
    assert charts == {}


def test_the_generated_part_is_replaced_and_the_rest_kept() -> None:
    doc = f"# Performance\n\nby hand\n\n{report.BEGIN}\nold\n{report.END}\n\nafter\n"
    out = report.splice(doc, f"{report.BEGIN}\nnew\n{report.END}")
    assert out == f"# Performance\n\nby hand\n\n{report.BEGIN}\nnew\n{report.END}\n\nafter\n"


def test_the_docs_are_what_the_committed_results_render() -> None:
    results = report.load()
    if not results:
        pytest.skip("no bench results committed under bench/results/ yet")
    section, charts = report.render(results)
    assert report.stale(section, charts) == [], "run: uv run python -m bench.report"


def test_a_kubeflow_run_without_the_upstream_side_is_left_out() -> None:
    ours_only = _kubeflow("2026-12-07T14:00:00")
    for comparison in ours_only["comparisons"]:
        del comparison["upstream"], comparison["ratios"], comparison["ratio_median"]
    del ours_only["rss_mib"]["upstream_peak"]
    section, _ = report.render([_kubeflow("2026-12-07T13:00:00"), ours_only])
    assert [line for line in section.splitlines() if "version-by-id" in line] == [
        line
        for line in report.render([_kubeflow("2026-12-07T13:00:00")])[0].splitlines()
        if "version-by-id" in line
    ]
