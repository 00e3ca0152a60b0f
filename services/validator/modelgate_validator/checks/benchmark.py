"""Benchmark: serve the model on a runner and measure it. Runners are plugins; where none is
configured (or none can run here) the check is skipped with the reason, and the policy switch
`MODELGATE_BENCHMARK_REQUIRED` decides whether that blocks registration."""

from __future__ import annotations

from typing import Protocol

from modelgate_shared.events import BenchmarkResult, ModelSubmitted
from modelgate_validator.artifact_reader import ArtifactReader
from modelgate_validator.checks.base import CheckContext, Outcome


class BenchmarkRunner(Protocol):
    name: str

    async def unavailable(self, submission: ModelSubmitted) -> str | None:
        """Why this runner cannot benchmark this submission here, or None if it can."""

    async def run(self, submission: ModelSubmitted, reader: ArtifactReader) -> BenchmarkResult:
        """Serve the model, run the fixed workload, always stop the server."""


class BenchmarkCheck:
    name = "benchmark"
    needs_storage = True

    def __init__(self, runners: list[BenchmarkRunner], *, required: bool) -> None:
        self.runners = runners
        self.required = required

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
            ctx.benchmark = await runner.run(ctx.submission, ctx.reader)
            best = max(ctx.benchmark.runs, key=lambda r: r.output_tokens_per_s)
            return Outcome.passed(
                f"{runner.name} on {ctx.benchmark.hardware_profile}: "
                f"{best.output_tokens_per_s:.1f} output tokens/s at concurrency {best.concurrency}"
            )
        return self._unbenchmarked("no runner can benchmark this model here: " + "; ".join(reasons))
