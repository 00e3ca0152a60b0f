"""Benchmark: serve the model on a runner, measure it, and certify it for the hardware profile it
ran on when it meets that profile's thresholds.

Runners are plugins; where none is configured (or none can run here) the check is skipped with
the reason, and the policy switch `MODELGATE_BENCHMARK_REQUIRED` decides whether that blocks
registration. A runner that could take the model but did not finish (the server would not
start, a checksum did not match, the time ran out) fails the check with its reason.

Certification is per hardware profile: the model is certified for the profile the benchmark
ran on when the figures meet its thresholds. Missing them is not a failure (the figures are
reported all the same) unless the submission asked to be certified for that very profile.
"""

from __future__ import annotations

from typing import Protocol

from modelgate_shared.events import BenchmarkResult, ModelSubmitted
from modelgate_validator.artifact_reader import ArtifactReader
from modelgate_validator.checks.base import CheckContext, Outcome
from modelgate_validator.runners.profiles import ProfileTable, load_profiles


class BenchmarkFailed(Exception):
    """A runner that could serve the model here did not complete the benchmark; why."""


class BenchmarkRunner(Protocol):
    name: str

    async def unavailable(self, submission: ModelSubmitted) -> str | None:
        """Why this runner cannot benchmark this submission here, or None if it can."""

    async def run(self, submission: ModelSubmitted, reader: ArtifactReader) -> BenchmarkResult:
        """Serve the model, run the fixed workload, always stop the server. Raises
        BenchmarkFailed with the reason when it cannot finish."""


class BenchmarkCheck:
    name = "benchmark"
    needs_storage = True

    def __init__(
        self,
        runners: list[BenchmarkRunner],
        *,
        required: bool,
        profiles: ProfileTable | None = None,
    ) -> None:
        self.runners = runners
        self.required = required
        self.profiles = profiles if profiles is not None else load_profiles()

    def _unbenchmarked(self, reason: str) -> Outcome:
        if self.required:
            return Outcome.failed(f"a benchmark is required by policy, but {reason}")
        return Outcome.skipped(reason)

    async def run(self, ctx: CheckContext) -> Outcome:
        if ctx.earlier_failed:
            return Outcome.skipped("not run: earlier checks failed")
        if not self.runners:
            return self._unbenchmarked(
                "no benchmark runner is configured on this validator (MODELGATE_BENCHMARK_RUNNERS)"
            )
        reasons = []
        for runner in self.runners:
            reason = await runner.unavailable(ctx.submission)
            if reason is not None:
                reasons.append(f"{runner.name}: {reason}")
                continue
            try:
                ctx.benchmark = await runner.run(ctx.submission, ctx.reader)
            except BenchmarkFailed as exc:
                return Outcome.failed(f"{runner.name}: {exc}")
            return self.certify(ctx, ctx.benchmark)
        return self._unbenchmarked("no runner can benchmark this model here: " + "; ".join(reasons))

    def certify(self, ctx: CheckContext, result: BenchmarkResult) -> Outcome:
        best = max(result.runs, key=lambda r: r.output_tokens_per_s)
        summary = (
            f"{result.runner} on {result.hardware_profile}: {best.output_tokens_per_s:.1f} output "
            f"tokens/s at concurrency {best.concurrency}"
        )
        profile = self.profiles.get(result.hardware_profile)
        problems = (
            profile.thresholds.problems(result.runs)
            if profile is not None
            else [f"the profile table has no {result.hardware_profile!r} profile"]
        )
        if not problems:
            ctx.certified_profiles = [result.hardware_profile]
            return Outcome.passed(f"{summary}; certified for {result.hardware_profile}")
        detail = f"{summary}; not certified for {result.hardware_profile}: {'; '.join(problems)}"
        if ctx.submission.hardware_profile == result.hardware_profile:
            return Outcome.failed(f"{detail} (the submission asks to be certified for it)")
        return Outcome.passed(detail)
