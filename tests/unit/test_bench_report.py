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
