"""The benchmark check's policy: skipped or failed when nothing runs, certification per profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelgate_shared.events import (
    BenchmarkResult,
    BenchmarkRun,
    CheckStatus,
    HardwareInfo,
    ModelSubmitted,
)
from modelgate_testkit.factories import submitted
from modelgate_validator.artifact_reader import ArtifactReader
from modelgate_validator.checks.base import CheckContext
from modelgate_validator.checks.benchmark import BenchmarkCheck, BenchmarkFailed, BenchmarkRunner
from tests.unit.validator.runners.test_profiles import run


class FakeRunner:
    def __init__(self, name: str, *, reason: str | None = None, **result: Any) -> None:
        self.name = name
        self.reason = reason
        self.result = result
        self.ran = 0

    async def unavailable(self, submission: ModelSubmitted) -> str | None:
        return self.reason

    async def run(self, submission: ModelSubmitted, reader: ArtifactReader) -> BenchmarkResult:
        self.ran += 1
        if "error" in self.result:
            raise BenchmarkFailed(self.result["error"])
        return BenchmarkResult(
            runner=self.name,
            hardware_profile=self.result["profile"],
            hardware=HardwareInfo(gpu_model="NVIDIA L4", gpu_count=1),
            runs=self.result["runs"],
        )


def context(tmp_path: Path, **overrides: Any) -> CheckContext:
    return CheckContext(
        submission=submitted(**overrides),
        reader=None,  # type: ignore[arg-type]
        files=None,  # type: ignore[arg-type]
        scratch=tmp_path,
    )


FAST = [run(1, 30, 200), run(8, 180, 900), run(32, 400, 2500)]
SLOW = [run(1, 10, 200), run(8, 60, 900)]


def l4_runner(runs: list[BenchmarkRun]) -> BenchmarkRunner:
    return FakeRunner("vllm", profile="nvidia-l4-1gpu", runs=runs)


async def test_a_model_meeting_the_thresholds_is_certified_for_the_profile(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    check = BenchmarkCheck(
        [FakeRunner("vllm", profile="nvidia-l4-1gpu", runs=FAST)], required=False
    )
    outcome = await check.run(ctx)
    assert outcome.status == CheckStatus.PASSED
    assert outcome.detail == (
        "vllm on nvidia-l4-1gpu: 400.0 output tokens/s at concurrency 32; "
        "certified for nvidia-l4-1gpu"
    )
    assert ctx.certified_profiles == ["nvidia-l4-1gpu"]
    assert ctx.benchmark is not None


async def test_missing_the_thresholds_is_reported_but_not_a_failure(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    check = BenchmarkCheck(
        [FakeRunner("vllm", profile="nvidia-l4-1gpu", runs=SLOW)], required=False
    )
    outcome = await check.run(ctx)
    assert outcome.status == CheckStatus.PASSED
    assert "not certified for nvidia-l4-1gpu: 60.0 output tokens/s at concurrency 8" in (
        outcome.detail
    )
    assert ctx.certified_profiles == []


async def test_missing_the_thresholds_of_the_profile_asked_for_fails(tmp_path: Path) -> None:
    ctx = context(tmp_path, hardware_profile="nvidia-l4-1gpu")
    check = BenchmarkCheck([l4_runner(SLOW)], required=True)
    outcome = await check.run(ctx)
    assert outcome.status == CheckStatus.FAILED
    assert outcome.detail.endswith("(the submission asks to be certified for it)")


@pytest.mark.parametrize(("required", "status"), [(False, "skipped"), (True, "failed")])
async def test_no_runner_that_can_take_the_model_is_skipped_or_blocks_by_policy(
    tmp_path: Path, required: bool, status: str
) -> None:
    runners = [FakeRunner("vllm", reason="no NVIDIA GPU: NVML is not available (x)")]
    outcome = await BenchmarkCheck(runners, required=required).run(context(tmp_path))  # type: ignore[arg-type]
    assert outcome.status == CheckStatus(status)
    assert "vllm: no NVIDIA GPU: NVML is not available (x)" in outcome.detail


async def test_the_first_runner_that_can_take_the_model_runs_it(tmp_path: Path) -> None:
    gpu = FakeRunner("vllm", reason="no NVIDIA GPU")
    cpu = FakeRunner("llama-cpp", profile="cpu", runs=[run(1, 5, 900)])
    ctx = context(tmp_path)
    outcome = await BenchmarkCheck([gpu, cpu], required=False).run(ctx)
    assert outcome.status == CheckStatus.PASSED
    assert (gpu.ran, cpu.ran) == (0, 1)
    assert ctx.certified_profiles == ["cpu"]


async def test_a_runner_that_could_not_finish_fails_the_check_with_its_reason(
    tmp_path: Path,
) -> None:
    broken = FakeRunner(
        "llama-cpp", error="llama-cpp server exited with code 1 before it was ready"
    )
    outcome = await BenchmarkCheck([broken], required=False).run(context(tmp_path))
    assert outcome.status == CheckStatus.FAILED
    assert outcome.detail == "llama-cpp: llama-cpp server exited with code 1 before it was ready"
