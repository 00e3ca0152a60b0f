"""NVML mapping: what a host with these GPUs reports, and which hardware profile it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelgate_validator.runners.hardware import GpuMemoryPeak, cpu_model, cuda_version, detect
from modelgate_validator.runners.profiles import load_profiles
from tests.unit.validator.runners.fakes import FakeNvml, host


def test_one_l4_is_reported_as_nvml_says_and_maps_to_the_l4_profile() -> None:
    nvml = FakeNvml(["NVIDIA L4"], memory_mib=23034, driver="550.90.07", cuda=12040)
    found = detect(nvml)
    assert found.no_gpu_reason is None
    assert found.info.gpu_model == "NVIDIA L4"
    assert found.info.gpu_count == 1
    assert found.info.gpu_memory_mib == 23034
    assert found.info.driver_version == "550.90.07"
    assert found.info.cuda_version == "12.4"
    assert found.info.cpu_count is not None
    assert nvml.initialised == 0, "NVML is shut down again"
    profile = load_profiles().for_gpus(found)
    assert profile is not None
    assert profile.id == "nvidia-l4-1gpu"


@pytest.mark.parametrize(
    ("names", "memory_mib", "expected"),
    [
        (["NVIDIA L4", "NVIDIA L4"], 23034, "nvidia-l4-2gpu"),
        (["NVIDIA H100 80GB HBM3"], 81559, "nvidia-h100-80gb-1gpu"),
        (["NVIDIA H100 PCIe"], 81559, "nvidia-h100-80gb-1gpu"),
        (["NVIDIA A100-SXM4-80GB"], 81920, "nvidia-a100-80gb-1gpu"),
        (["NVIDIA H200"], 143771, "nvidia-h200-1gpu"),
        (["NVIDIA A100-SXM4-40GB"], 40960, None),  # too little memory for the 80 GB profile
        (["Tesla T4"], 15360, None),
        (["NVIDIA L4"] * 4, 23034, None),  # no four-L4 profile in the defaults
        (["NVIDIA L40S"], 46068, None),  # L40S is not an L4
    ],
)
def test_gpus_map_to_the_first_profile_they_match(
    names: list[str], memory_mib: int, expected: str | None
) -> None:
    profile = load_profiles().for_gpus(host(names, memory_mib))
    assert (profile.id if profile else None) == expected


def test_mixed_gpus_are_named_and_match_no_profile() -> None:
    found = host(["NVIDIA L4", "NVIDIA H100 80GB HBM3"], 23034)
    assert found.info.gpu_model == "mixed: NVIDIA L4, NVIDIA H100 80GB HBM3"
    assert load_profiles().for_gpus(found) is None


def test_without_nvml_the_host_says_plainly_that_it_has_no_gpu() -> None:
    found = detect(FakeNvml([], missing=True))
    assert found.no_gpu_reason is not None
    assert found.no_gpu_reason.startswith("no NVIDIA GPU: NVML is not available")
    assert "Shared Library Not Found" in found.no_gpu_reason
    assert found.info.gpu_count == 0
    assert found.info.gpu_model is None


def test_nvml_with_no_device_is_no_gpu_either() -> None:
    assert detect(FakeNvml([])).no_gpu_reason == "no NVIDIA GPU: NVML found none"


def test_this_machine_has_no_gpu_and_the_real_nvml_says_so() -> None:
    # The real pynvml on a CPU-only machine (CI): the library is missing, not a crash.
    found = detect()
    assert found.no_gpu_reason is not None or found.info.gpu_count > 0


@pytest.mark.parametrize(("encoded", "text"), [(12040, "12.4"), (11080, "11.8"), (12090, "12.9")])
def test_cuda_versions_decode(encoded: int, text: str) -> None:
    assert cuda_version(encoded) == text


def test_cpu_model_comes_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n")
    assert cpu_model(info) == "AMD EPYC 7B13"
    assert cpu_model(tmp_path / "absent") is None


async def test_gpu_memory_peak_keeps_the_highest_sample() -> None:
    nvml = FakeNvml(["NVIDIA L4", "NVIDIA L4"], used_mib=[1000, 2000])
    async with GpuMemoryPeak(nvml, interval_s=0.01) as peak:
        nvml.used_mib = [20000, 21000]
        peak.sample()
        nvml.used_mib = [500, 500]
    assert peak.peak_mib == 41000
    assert nvml.initialised == 0
