"""The auto-approval policy: what each condition matches, reloading, and failing closed."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from modelgate_registry.review_policy import Candidate, ReviewPolicy, Rule, matches


def _benchmark(tokens_per_s: float, ttft_p99_s: float) -> dict[str, Any]:
    return {
        "runs": [
            {
                "concurrency": 1,
                "failures": 0,
                "output_tokens_per_s": tokens_per_s,
                "ttft": {"p50": ttft_p99_s / 2, "p99": ttft_p99_s},
                "e2e": {"p50": 1.0, "p99": 2.0},
            }
        ]
    }


CANDIDATE = Candidate(
    name="platform-summarizer",
    owner_team="platform",
    license="Apache-2.0",
    labels={"tier": "trusted", "task": "summarization"},
    hardware_profiles=["cpu", "nvidia-l4-1gpu"],
    benchmark=_benchmark(tokens_per_s=40.0, ttft_p99_s=0.25),
)


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ({}, True),
        ({"model_name": "platform-*"}, True),
        ({"model_name": "team-a-*"}, False),
        ({"owner_team": ["platform", "search"]}, True),
        ({"owner_team": ["search"]}, False),
        ({"license": ["apache-2.0"]}, True),
        ({"license": ["mit"]}, False),
        ({"labels": {"tier": "trusted"}}, True),
        ({"labels": {"tier": "trusted", "task": "chat"}}, False),
        ({"hardware_profiles": ["cpu"]}, True),
        ({"hardware_profiles": ["cpu", "nvidia-h100-8gpu"]}, False),
        ({"benchmark": [{"concurrency": 1, "min_output_tokens_per_s": 30}]}, True),
        ({"benchmark": [{"concurrency": 1, "min_output_tokens_per_s": 50}]}, False),
        ({"benchmark": [{"concurrency": 1, "max_ttft_p99_ms": 300}]}, True),
        ({"benchmark": [{"concurrency": 1, "max_ttft_p99_ms": 200}]}, False),
        ({"benchmark": [{"concurrency": 8, "min_output_tokens_per_s": 1}]}, False),
        ({"model_name": "platform-*", "owner_team": ["search"]}, False),
    ],
)
def test_a_rule_matches_when_every_condition_it_states_holds(
    conditions: dict[str, Any], expected: bool
) -> None:
    assert matches(Rule(name="r", **conditions), CANDIDATE) is expected


def test_a_benchmark_floor_fails_a_version_without_a_benchmark() -> None:
    rule = Rule(name="r", benchmark=[{"concurrency": 1, "min_output_tokens_per_s": 0}])
    unbenchmarked = Candidate("m", None, None, {}, [], None)
    assert not matches(rule, unbenchmarked)


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    # Two writes within the file system's timestamp resolution must still be told apart.
    stamp = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


def test_no_file_means_every_version_waits_for_a_human() -> None:
    assert ReviewPolicy(None).approving_rule(CANDIDATE) is None


def test_the_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    _write(path, "rules: []\n")
    policy = ReviewPolicy(path)
    assert policy.approving_rule(CANDIDATE) is None
    _write(path, "rules:\n  - name: platform\n    owner_team: [platform]\n")
    rule = policy.approving_rule(CANDIDATE)
    assert rule is not None
    assert rule.name == "platform"


@pytest.mark.parametrize(
    "broken",
    [
        "rules: [{name: x, colour: blue}]\n",  # unknown condition: a typo never widens a rule
        "rules: [{name: 'not a name!'}]\n",
        "rules: [{name: a}, {name: a}]\n",
        "rules: [unclosed\n",
        "\xff\xfe",
    ],
)
def test_a_broken_file_keeps_the_rules_in_force_and_says_why(
    tmp_path: Path, broken: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "policy.yaml"
    _write(path, "rules:\n  - name: platform\n    owner_team: [platform]\n")
    policy = ReviewPolicy(path)
    if broken == "\xff\xfe":
        path.write_bytes(b"\xff\xfe\x00")
        stamp = path.stat().st_mtime_ns + 2_000_000_000
        os.utime(path, ns=(stamp, stamp))
    else:
        _write(path, broken)
    with caplog.at_level(logging.ERROR):
        rule = policy.approving_rule(CANDIDATE)
    assert rule is not None
    assert rule.name == "platform"
    assert policy.state.error
    assert "review policy not changed" in caplog.text


def test_a_broken_first_file_approves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    _write(path, "rules: [{name: everything, colour: blue}]\n")
    policy = ReviewPolicy(path)
    assert policy.approving_rule(CANDIDATE) is None
    assert policy.state.error
