"""In-memory stand-ins for unit tests: NVML (no GPU here), and submissions for the runners."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from modelgate_shared.events import ArtifactFile, ArtifactFormat, ModelCard, ModelSubmitted
from modelgate_testkit.factories import GOOD_CARD, submitted
from modelgate_validator.runners.hardware import HostHardware, detect
from modelgate_validator.runners.pidfiles import PidDirectory
from modelgate_validator.runners.profiles import load_profiles
from modelgate_validator.runners.serving import RunnerEnvironment
from modelgate_validator.runners.workload import Workload

MiB = 1024 * 1024


class NVMLError(Exception):
    pass


@dataclass
class FakeNvml:
    """The slice of `pynvml` the validator uses, answering as a host with these GPUs would."""

    names: list[str]
    memory_mib: int = 23034
    used_mib: list[int] | None = None
    driver: str = "550.90.07"
    cuda: int = 12040
    missing: bool = False
    initialised: int = 0

    def nvmlInit(self) -> None:
        if self.missing:
            raise NVMLError("NVML Shared Library Not Found")
        self.initialised += 1

    def nvmlShutdown(self) -> None:
        self.initialised -= 1

    def nvmlDeviceGetCount(self) -> int:
        return len(self.names)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetName(self, handle: int) -> str:
        return self.names[handle]

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:
        used = (self.used_mib or [0] * len(self.names))[handle]
        return SimpleNamespace(total=self.memory_mib * MiB, used=used * MiB)

    def nvmlSystemGetDriverVersion(self) -> str:
        return self.driver

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        return self.cuda


def host(names: list[str], memory_mib: int = 23034) -> HostHardware:
    return detect(FakeNvml(names, memory_mib=memory_mib))


def environment(tmp_path: Path, hardware: HostHardware, **workload: Any) -> RunnerEnvironment:
    return RunnerEnvironment(
        hardware=hardware,
        profiles=load_profiles(),
        workload=Workload(**workload),
        pids=PidDirectory(tmp_path / "servers"),
        cache_dir=tmp_path / "cache",
        cache_max_bytes=1 << 30,
        server_logs=tmp_path / "logs",
    )


def hf_submission(card: ModelCard = GOOD_CARD, **overrides: Any) -> ModelSubmitted:
    files = [
        ArtifactFile(path=path, uri=f"s3://modelgate/m/{path}", sha256="0" * 64, size=1)
        for path in ("config.json", "model.safetensors", "tokenizer.json")
    ]
    return submitted(
        "granite-3.1-8b-instruct",
        format=ArtifactFormat.HF_DIRECTORY,
        files=files,
        model_card=card,
        **overrides,
    )
