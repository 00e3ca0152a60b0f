"""What this host has: NVIDIA GPUs through NVML (`nvidia-ml-py`), and its CPU.

NVML is the driver's own management library (what `nvidia-smi` uses): it answers without CUDA,
and its absence (`libnvidia-ml.so` not found) is how a CPU-only host is recognised. Tests pass a
fake module as `nvml`; everything else imports the real `pynvml`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelgate_shared.events import HardwareInfo

MiB = 1024 * 1024


@dataclass(frozen=True)
class HostHardware:
    info: HardwareInfo
    gpu_names: tuple[str, ...] = ()
    no_gpu_reason: str | None = None
    """Why there is no usable GPU here, in words; None when NVML found at least one."""


def load_nvml() -> Any:
    return importlib.import_module("pynvml")


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def cuda_version(encoded: int) -> str:
    """NVML encodes the CUDA version as 1000 × major + 10 × minor (12040 is 12.4)."""
    return f"{encoded // 1000}.{(encoded % 1000) // 10}"


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str | None:
    with contextlib.suppress(OSError):
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                return value.strip()[:256]
    return None


def cpu_count() -> int:
    # The CPUs this process may use (a container's cpuset), not every CPU of the machine.
    return len(os.sched_getaffinity(0))


def detect(nvml: Any | None = None) -> HostHardware:
    cpu = {"cpu_model": cpu_model(), "cpu_count": cpu_count()}
    try:
        nvml = nvml if nvml is not None else load_nvml()
        nvml.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound, _DriverNotLoaded, ImportError, …
        return HostHardware(
            HardwareInfo(**cpu), no_gpu_reason=f"no NVIDIA GPU: NVML is not available ({exc})"
        )
    try:
        count = nvml.nvmlDeviceGetCount()
        if count == 0:
            return HostHardware(HardwareInfo(**cpu), no_gpu_reason="no NVIDIA GPU: NVML found none")
        handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        names = tuple(_text(nvml.nvmlDeviceGetName(h)) for h in handles)
        memory = [int(nvml.nvmlDeviceGetMemoryInfo(h).total) // MiB for h in handles]
        info = HardwareInfo(
            gpu_model=names[0] if len(set(names)) == 1 else "mixed: " + ", ".join(names),
            gpu_count=count,
            gpu_memory_mib=min(memory),
            driver_version=_text(nvml.nvmlSystemGetDriverVersion()),
            cuda_version=cuda_version(int(nvml.nvmlSystemGetCudaDriverVersion())),
            **cpu,
        )
        return HostHardware(info, gpu_names=names)
    finally:
        nvml.nvmlShutdown()


@dataclass
class GpuMemoryPeak:
    """Samples the memory in use on every GPU while a benchmark runs and keeps the peak.

    Device-wide figures (what `nvidia-smi` shows), not per process: inside a container NVML
    cannot always map processes to our server, and a benchmark node runs nothing else."""

    nvml: Any
    interval_s: float = 0.2
    peak_mib: float = 0.0
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    def sample(self) -> None:
        handles = [
            self.nvml.nvmlDeviceGetHandleByIndex(i) for i in range(self.nvml.nvmlDeviceGetCount())
        ]
        used = sum(int(self.nvml.nvmlDeviceGetMemoryInfo(h).used) for h in handles) / MiB
        self.peak_mib = max(self.peak_mib, used)

    async def _loop(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval_s)

    async def __aenter__(self) -> GpuMemoryPeak:
        self.nvml.nvmlInit()
        self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            self.sample()
        self.nvml.nvmlShutdown()
