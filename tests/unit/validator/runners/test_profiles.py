"""The profile table: built-in defaults, an operator's file, and the certification thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from modelgate_shared.events import BenchmarkRun, LatencyPercentiles
from modelgate_validator.runners.profiles import Thresholds, load_profiles


def run(concurrency: int, tps: float, ttft_p99: float, failures: int = 0) -> BenchmarkRun:
    ms = LatencyPercentiles(p50_ms=10, p95_ms=20, p99_ms=30)
    return BenchmarkRun(
        concurrency=concurrency,
        requests=32,
        failures=failures,
        duration_s=10,
        output_tokens=int(tps * 10),
        output_tokens_per_s=tps,
        requests_per_s=3.2,
        ttft=LatencyPercentiles(p50_ms=ttft_p99 / 2, p95_ms=ttft_p99, p99_ms=ttft_p99),
        itl=ms,
        e2e=ms,
    )


def test_the_defaults_name_the_profiles_of_the_issue() -> None:
    ids = load_profiles().ids
    for wanted in ("nvidia-l4-1gpu", "nvidia-h100-80gb-1gpu", "cpu"):
        assert wanted in ids


def test_thresholds_certify_at_their_concurrency() -> None:
    thresholds = Thresholds(concurrency=8, min_output_tokens_per_s=100, max_p99_ttft_ms=1500)
    assert thresholds.problems([run(1, 30, 100), run(8, 180, 900)]) == []
    assert thresholds.problems([run(1, 300, 100), run(8, 80, 2000, failures=1)]) == [
        "1 of 32 requests failed at concurrency 8 (at most 0% allowed)",
        "80.0 output tokens/s at concurrency 8, below the minimum 100",
        "p99 time to first token 2000 ms at concurrency 8, above the maximum 1500 ms",
    ]
    assert thresholds.problems([run(1, 30, 100)]) == [
        "the workload has no concurrency 8 level (ran 1)"
    ]


def test_an_operators_file_replaces_the_table(tmp_path: Path) -> None:
    path = tmp_path / "profiles.json"
    path.write_text(
        json.dumps(
            {
                "profiles": [
                    {
                        "id": "nvidia-l4-1gpu",
                        "gpu_name_pattern": "L4",
                        "gpu_count": 1,
                        "thresholds": {"concurrency": 32, "min_output_tokens_per_s": 250},
                    }
                ]
            }
        )
    )
    table = load_profiles(path)
    assert table.ids == ["nvidia-l4-1gpu"]
    profile = table.get("nvidia-l4-1gpu")
    assert profile is not None
    assert profile.thresholds.concurrency == 32
    yaml_path = tmp_path / "profiles.yaml"
    yaml_path.write_text("profiles:\n  - id: cpu\n    thresholds: {concurrency: 1}\n")
    assert load_profiles(yaml_path).ids == ["cpu"]


def test_a_typo_in_an_operators_file_is_an_error_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text("profiles:\n  - id: cpu\n    thresholds: {min_output_tokens: 5}\n")
    with pytest.raises(ValidationError, match="min_output_tokens"):
        load_profiles(path)
