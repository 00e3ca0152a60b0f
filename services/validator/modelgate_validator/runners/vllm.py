"""The GPU runner: `vllm serve` on this host's NVIDIA GPUs, sized by the hardware profile the
host matches and by the model's card and checkpoint.

Arguments follow vLLM's documented CLI (`vllm serve --help`): the model directory is the
positional argument; `--tensor-parallel-size` is the GPU count of the profile;
`--gpu-memory-utilization` and `--max-model-len` come from the profile (the latter never above
the checkpoint's `max_position_embeddings`); `--quantization fp8` is asked for when the card
says FP8 but the checkpoint is not already quantised (a checkpoint with a
`quantization_config` is loaded as it says: naming another method there is an error in vLLM).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from modelgate_shared.events import ArtifactFormat, ModelCard, ModelSubmitted
from modelgate_validator.checks.benchmark import BenchmarkFailed
from modelgate_validator.runners.hardware import GpuMemoryPeak, load_nvml
from modelgate_validator.runners.openai_bench import LevelTimes
from modelgate_validator.runners.profiles import HardwareProfile
from modelgate_validator.runners.server import ServerProcess, ServerSpec
from modelgate_validator.runners.serving import Launch, RunnerEnvironment, ServingRunner
from modelgate_validator.runners.vllm_version import vllm_version

HF_FORMATS = (ArtifactFormat.HF_DIRECTORY, ArtifactFormat.SAFETENSORS)
GENERATED = "vllm:generation_tokens_total"  # vLLM's Prometheus counter of generated tokens
# Model-card quantisation names vLLM can apply to an unquantised checkpoint while loading it.
ONLINE_QUANTIZATION = {"fp8": "fp8", "fp8-dynamic": "fp8", "fp8_dynamic": "fp8", "w8a8-fp8": "fp8"}


class UnsupportedQuantization(BenchmarkFailed):
    pass


def quantization_arg(card: ModelCard, checkpoint_config: dict[str, Any]) -> str | None:
    """The `--quantization` value for this model, or None to let vLLM read the checkpoint."""
    if "quantization_config" in checkpoint_config:
        return None  # pre-quantised (compressed-tensors, AWQ, GPTQ, FP8): vLLM detects it
    wanted = (card.quantization or "").strip().lower()
    if not wanted or wanted in ("none", "bf16", "fp16", "float16", "bfloat16"):
        return None
    if wanted not in ONLINE_QUANTIZATION:
        raise UnsupportedQuantization(
            f"the model card asks for {card.quantization!r} quantisation, but the checkpoint has "
            f"no quantization_config and vLLM can only apply "
            f"{', '.join(sorted(set(ONLINE_QUANTIZATION.values())))} while loading"
        )
    return ONLINE_QUANTIZATION[wanted]


def max_model_len(profile: HardwareProfile, checkpoint_config: dict[str, Any]) -> int:
    trained = checkpoint_config.get("max_position_embeddings")
    limit = profile.vllm.max_model_len
    return min(limit, int(trained)) if isinstance(trained, int) and trained > 0 else limit


def vllm_command(
    *,
    executable: str,
    model_dir: Path,
    served_name: str,
    port: int,
    profile: HardwareProfile,
    quantization: str | None,
    max_len: int,
    seed: int,
    extra_args: list[str] | None = None,
) -> list[str]:
    """`vllm serve` as the runner starts it."""
    argv = [
        executable, "serve", str(model_dir),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--served-model-name", served_name,
        "--tensor-parallel-size", str(profile.gpu_count),
        "--gpu-memory-utilization", f"{profile.vllm.gpu_memory_utilization:g}",
        "--max-model-len", str(max_len),
        "--seed", str(seed),
        # The checkpoint's generation_config.json would change the sampling the workload asks for.
        "--generation-config", "vllm",
    ]  # fmt: skip
    if quantization is not None:
        argv += ["--quantization", quantization]
    if profile.vllm.max_num_seqs is not None:
        argv += ["--max-num-seqs", str(profile.vllm.max_num_seqs)]
    return argv + profile.vllm.extra_args + (extra_args or [])


def counter_total(metrics: str, name: str) -> float | None:
    """The sum of a Prometheus counter over all its label sets, from `/metrics` text."""
    pattern = re.compile(rf"^{re.escape(name)}(?:{{[^}}]*}})?\s+([0-9.eE+-]+)$", re.MULTILINE)
    values = [float(v) for v in pattern.findall(metrics)]
    return sum(values) if values else None


def read_checkpoint_config(model_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((model_dir / "config.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class VllmRunner(ServingRunner):
    name = "vllm"

    def __init__(
        self,
        env: RunnerEnvironment,
        *,
        executable: str = "vllm",
        extra_args: list[str] | None = None,
    ) -> None:
        super().__init__(env)
        self.executable = executable
        self.extra_args = extra_args or []

    def _profile(self) -> HardwareProfile | None:
        return self.env.profiles.for_gpus(self.env.hardware)

    async def unavailable(self, submission: ModelSubmitted) -> str | None:
        host = self.env.hardware
        if host.no_gpu_reason is not None:
            return host.no_gpu_reason
        if shutil.which(self.executable) is None:
            return f"vLLM is not installed here (no {self.executable!r} executable)"
        # Asked once, off the event loop (`vllm --version` can take seconds); launch() reads
        # the cached answer.
        await asyncio.to_thread(vllm_version, self.executable)
        artifact = submission.artifact
        if artifact.format not in HF_FORMATS or not any(
            f.path == "config.json" for f in artifact.files
        ):
            return (
                "serves Hugging Face checkpoints (config.json and safetensors); this artifact is "
                f"{artifact.format.value}"
            )
        profile = self._profile()
        if profile is None:
            info = host.info
            return (
                f"no hardware profile matches {info.gpu_count} × {info.gpu_model} "
                f"({info.gpu_memory_mib} MiB each); known profiles: "
                + ", ".join(self.env.profiles.ids)
            )
        return self.requested_mismatch(submission, profile)

    def launch(self, submission: ModelSubmitted, model_dir: Path, port: int, log: Path) -> Launch:
        profile = self._profile()
        assert profile is not None
        config = read_checkpoint_config(model_dir)
        argv = vllm_command(
            executable=self.executable,
            model_dir=model_dir,
            served_name=submission.name,
            port=port,
            profile=profile,
            quantization=quantization_arg(submission.model_card, config),
            max_len=max_model_len(profile, config),
            seed=self.env.workload.seed,
            extra_args=self.extra_args,
        )
        env = {"VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1"}
        return Launch(
            spec=ServerSpec(
                name=self.name,
                argv=argv,
                health_url=f"http://127.0.0.1:{port}/health",
                log_path=log,
                env=env,
            ),
            served_model=submission.name,
            profile=profile,
            server=vllm_version(self.executable),
        )

    async def level_mark(self, server: ServerProcess) -> float | None:
        return await self._generated(server)

    async def server_figure(
        self, server: ServerProcess, times: LevelTimes, requests: int, mark: float | None
    ) -> float | None:
        """vLLM batches requests, so it reports no per-request busy time: its own count of the
        tokens it generated during the level (its Prometheus counter) over the level's time."""
        total = await self._generated(server)
        if total is None or mark is None or times.ended <= times.began:
            return None
        return round((total - mark) / (times.ended - times.began), 3)

    async def _generated(self, server: ServerProcess) -> float | None:
        url = server.spec.health_url.replace("/health", "/metrics")
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                return counter_total((await client.get(url)).text, GENERATED)
        except httpx.HTTPError:
            return None

    @contextlib.asynccontextmanager
    async def memory_peak(self, server: ServerProcess) -> AsyncIterator[list[float | None]]:
        peak: list[float | None] = [None]
        async with GpuMemoryPeak(load_nvml()) as gpu:
            try:
                yield peak
            finally:
                peak[0] = round(gpu.peak_mib, 1)
