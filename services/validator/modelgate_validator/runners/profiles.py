"""Hardware profiles: which profile a host is, how a server is sized for it, and the thresholds
that certify a model for it. The table is data (`default_profiles.yaml`, or the YAML/JSON file
named by `MODELGATE_HARDWARE_PROFILES_FILE`), so operators change it without a release."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from modelgate_shared.events import BenchmarkRun
from modelgate_validator.runners.hardware import HostHardware

CPU_PROFILE = "cpu"


class _Strict(BaseModel):
    # A typo in an operator's profile file must fail at start-up, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Strict):
    concurrency: int = Field(8, ge=1)
    """The workload level the thresholds are checked at."""
    min_output_tokens_per_s: float | None = None
    max_p99_ttft_ms: float | None = None
    max_p99_itl_ms: float | None = None
    max_failure_rate: float = Field(0.0, ge=0, le=1)

    def problems(self, runs: Sequence[BenchmarkRun]) -> list[str]:
        """Why these runs do not meet the thresholds; empty when they do."""
        run = next((r for r in runs if r.concurrency == self.concurrency), None)
        if run is None:
            levels = ", ".join(str(r.concurrency) for r in runs)
            return [f"the workload has no concurrency {self.concurrency} level (ran {levels})"]
        at = f"at concurrency {run.concurrency}"
        found = []
        failure_rate = run.failures / run.requests if run.requests else 1.0
        if failure_rate > self.max_failure_rate:
            found.append(
                f"{run.failures} of {run.requests} requests failed {at} "
                f"(at most {self.max_failure_rate:.0%} allowed)"
            )
        minimum = self.min_output_tokens_per_s
        if minimum is not None and run.output_tokens_per_s < minimum:
            found.append(
                f"{run.output_tokens_per_s:.1f} output tokens/s {at}, below the minimum {minimum:g}"
            )
        if self.max_p99_ttft_ms is not None and run.ttft.p99_ms > self.max_p99_ttft_ms:
            found.append(
                f"p99 time to first token {run.ttft.p99_ms:.0f} ms {at}, "
                f"above the maximum {self.max_p99_ttft_ms:g} ms"
            )
        if self.max_p99_itl_ms is not None and run.itl.p99_ms > self.max_p99_itl_ms:
            found.append(
                f"p99 inter-token latency {run.itl.p99_ms:.1f} ms {at}, "
                f"above the maximum {self.max_p99_itl_ms:g} ms"
            )
        return found


class VllmSizing(_Strict):
    gpu_memory_utilization: float = Field(0.90, gt=0, le=1)
    max_model_len: int = Field(8192, ge=1)
    """Upper bound; lowered to the model's own `max_position_embeddings` when that is smaller."""
    max_num_seqs: int | None = Field(None, ge=1)
    extra_args: list[str] = Field(default_factory=list)
    """Further `vllm serve` arguments for this profile, passed as given."""


class HardwareProfile(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    description: str = ""
    gpu_name_pattern: str | None = None
    """Regular expression searched in NVML's device name; none for the CPU profile."""
    gpu_count: int = Field(0, ge=0)
    min_gpu_memory_mib: int = Field(0, ge=0)
    vllm: VllmSizing = Field(default_factory=VllmSizing)
    thresholds: Thresholds = Field(default_factory=Thresholds)

    def matches(self, host: HostHardware) -> bool:
        if self.gpu_name_pattern is None or not host.gpu_names:
            return False
        pattern = re.compile(self.gpu_name_pattern)
        return (
            len(host.gpu_names) == self.gpu_count
            and all(pattern.search(name) for name in host.gpu_names)
            and (host.info.gpu_memory_mib or 0) >= self.min_gpu_memory_mib
        )


class ProfileTable(_Strict):
    profiles: list[HardwareProfile]

    def get(self, profile_id: str) -> HardwareProfile | None:
        return next((p for p in self.profiles if p.id == profile_id), None)

    def for_gpus(self, host: HostHardware) -> HardwareProfile | None:
        """The first GPU profile this host matches, or None."""
        return next((p for p in self.profiles if p.matches(host)), None)

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.profiles]


def load_profiles(path: Path | None = None) -> ProfileTable:
    """The profile table from `path` (YAML, or JSON by its `.json` suffix), else the defaults."""
    if path is None:
        text = resources.files(__package__).joinpath("default_profiles.yaml").read_text()
        return ProfileTable.model_validate(yaml.safe_load(text))
    text = path.read_text()
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return ProfileTable.model_validate(data)
