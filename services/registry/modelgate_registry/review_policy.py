"""The auto-approval policy: which validated versions skip the human review.

Default: none. Every version that passes validation waits in the review queue for an admin,
unless a rule of the policy matches it. The policy is data, a YAML (or JSON) file named by
`MODELGATE_REVIEW_POLICY`, read again whenever the file changes, so an operator (or a
Kubernetes ConfigMap update) changes it without a restart.

A rule matches when every condition it states holds; a condition it leaves out is not
checked, so a rule with no condition approves everything (what the test harness uses). The
first matching rule approves and is named in the version's history, its `model.registered`
event and the audit log.

A policy that cannot be read or parsed is never half-applied: the last good one stays in
force and the error is reported (log, `GET /api/v1/review-policy`); with no good one yet,
nothing is auto-approved. Failing closed means a typo sends versions to humans, never past
them.
"""

from __future__ import annotations

import fnmatch
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modelgate_shared.policy_file import PolicyFile, PolicyFileError

log = logging.getLogger("modelgate.registry.review_policy")

AUTO_APPROVER_PREFIX = "auto-approval:"


class BenchmarkFloor(BaseModel):
    """Thresholds on the validator's serving benchmark, at one concurrency level."""

    model_config = ConfigDict(extra="forbid")

    concurrency: int = Field(ge=1)
    min_output_tokens_per_s: float | None = Field(default=None, ge=0)
    max_ttft_p99_ms: float | None = Field(default=None, gt=0)
    max_e2e_p99_ms: float | None = Field(default=None, gt=0)
    max_failures: int | None = Field(default=None, ge=0)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    description: str = Field(default="", max_length=2000)
    model_name: str | None = Field(default=None, max_length=256)
    """Shell-style pattern on the model name, e.g. `team-a-*`."""
    owner_team: list[str] | None = None
    """The model card's owner team is one of these."""
    labels: dict[str, str] | None = None
    """Every one of these labels is on the version with this value."""
    license: list[str] | None = None
    """The model card's licence is one of these (exact, case-insensitive)."""
    hardware_profiles: list[str] | None = None
    """The validator certified the version for every one of these profiles."""
    benchmark: list[BenchmarkFloor] | None = None
    """The version has a benchmark and meets each floor (a missing level fails the rule)."""


class PolicyDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule] = Field(default_factory=list, max_length=1000)


@dataclass(frozen=True)
class Candidate:
    """What a rule may look at: facts the validator established or the submission stated."""

    name: str
    owner_team: str | None
    license: str | None
    labels: dict[str, str]
    hardware_profiles: list[str]
    benchmark: dict[str, Any] | None


def _benchmark_meets(benchmark: dict[str, Any] | None, floor: BenchmarkFloor) -> bool:
    if not benchmark:
        return False
    run = next(
        (r for r in benchmark.get("runs", []) if r.get("concurrency") == floor.concurrency), None
    )
    if run is None:
        return False
    # The benchmark reports seconds; the policy speaks milliseconds, as people quote latency.
    checks = [
        floor.min_output_tokens_per_s is None
        or run.get("output_tokens_per_s", 0) >= floor.min_output_tokens_per_s,
        floor.max_ttft_p99_ms is None
        or run.get("ttft", {}).get("p99", float("inf")) * 1000 <= floor.max_ttft_p99_ms,
        floor.max_e2e_p99_ms is None
        or run.get("e2e", {}).get("p99", float("inf")) * 1000 <= floor.max_e2e_p99_ms,
        floor.max_failures is None or run.get("failures", 0) <= floor.max_failures,
    ]
    return all(checks)


def matches(rule: Rule, c: Candidate) -> bool:
    if rule.model_name is not None and not fnmatch.fnmatchcase(c.name, rule.model_name):
        return False
    if rule.owner_team is not None and c.owner_team not in rule.owner_team:
        return False
    if rule.license is not None and (c.license or "").casefold() not in {
        x.casefold() for x in rule.license
    }:
        return False
    if rule.labels is not None and any(c.labels.get(k) != v for k, v in rule.labels.items()):
        return False
    if rule.hardware_profiles is not None and not set(rule.hardware_profiles) <= set(
        c.hardware_profiles
    ):
        return False
    return rule.benchmark is None or all(_benchmark_meets(c.benchmark, f) for f in rule.benchmark)


@dataclass(frozen=True)
class PolicyState:
    """The policy in force and where it came from, for the API and the logs."""

    rules: tuple[Rule, ...]
    source: str | None
    loaded_at: datetime | None
    error: str | None


class ReviewPolicy:
    """The auto-approval rules, re-read when their file changes (checked at each decision)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file = PolicyFile(path, PolicyDocument) if path else None
        self._state = PolicyState((), str(path) if path else None, None, None)
        self.refresh()

    @property
    def state(self) -> PolicyState:
        return self._state

    def refresh(self) -> PolicyState:
        if self._file is None:
            return self._state
        try:
            document = self._file.read_if_changed()
        except PolicyFileError as exc:
            return self._failed(str(exc))
        if document is None:
            return self._state
        names = [r.name for r in document.rules]
        if len(set(names)) != len(names):
            return self._failed(f"invalid policy {self.path}: rule names must be unique")
        self._state = PolicyState(tuple(document.rules), str(self.path), datetime.now(UTC), None)
        log.info("review policy loaded from %s: %d rule(s)", self.path, len(document.rules))
        return self._state

    def _failed(self, error: str) -> PolicyState:
        if error != self._state.error:
            log.error(
                "review policy not changed: %s (keeping %d rule(s))", error, len(self._state.rules)
            )
        old = self._state
        self._state = PolicyState(old.rules, old.source, old.loaded_at, error)
        return self._state

    def approving_rule(self, candidate: Candidate) -> Rule | None:
        """The first rule that approves `candidate` without a human, if any."""
        return next((r for r in self.refresh().rules if matches(r, candidate)), None)


def auto_approver(rule: Rule) -> str:
    return f"{AUTO_APPROVER_PREFIX}{rule.name}"
