"""Parts that several events share: artifacts, model cards, check results, benchmarks."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from modelgate_shared.events.fields import (
    Label,
    LongText,
    RelativePath,
    S3Uri,
    Sha256Hex,
    ShortText,
)

Scalar = str | int | float | bool


class Contract(BaseModel):
    """Base of every event model: unknown fields are ignored (additive evolution), docstrings
    of fields become the JSON Schema descriptions."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True, frozen=True)


class ArtifactFormat(StrEnum):
    SAFETENSORS = "safetensors"
    ONNX = "onnx"
    GGUF = "gguf"
    PYTORCH = "pytorch"
    PICKLE = "pickle"
    HF_DIRECTORY = "hf-directory"
    OTHER = "other"


class ArtifactFile(Contract):
    path: RelativePath
    """Path of the file inside the artifact, e.g. `model.safetensors` or `onnx/model.onnx`."""
    uri: S3Uri
    """Where the bytes are: `s3://bucket/key`."""
    sha256: Sha256Hex | None = None
    """Expected SHA-256 of the file; the validator recomputes it while streaming. Required for
    files ingest stored; may be absent in references, then integrity records what it found."""
    size: Annotated[int, Field(ge=0)] | None = None
    """Expected size in bytes."""


class Artifact(Contract):
    uri: S3Uri
    """Root of the artifact: an object, or a prefix ending in `/` for a directory."""
    format: ArtifactFormat
    """Serialisation of the model: decides which format-safety checks run."""
    files: Annotated[list[ArtifactFile], Field(min_length=1, max_length=10000)]
    """Every file of the artifact."""

    @property
    def total_size(self) -> int:
        return sum(f.size or 0 for f in self.files)


class ModelCard(Contract):
    description: LongText = ""
    """What the model does."""
    owner_team: ShortText | None = None
    """The team answerable for the model."""
    license: ShortText | None = None
    """SPDX identifier of the licence, e.g. `apache-2.0`."""
    intended_use: LongText | None = None
    """What the model is meant for."""
    limitations: LongText | None = None
    """Known limitations, biases and out-of-scope uses."""
    training_data_version: ShortText | None = None
    """Version or id of the data set it was trained on (lineage)."""
    code_commit: ShortText | None = None
    """Commit of the training code (lineage)."""
    framework: ShortText | None = None
    """Framework and version, e.g. `vllm`, `pytorch 2.5`."""
    vendor: ShortText | None = None
    """Who published the weights, e.g. `IBM`."""
    quantization: ShortText | None = None
    """Quantisation scheme, e.g. `fp8-dynamic`."""
    hyperparameters: dict[Label, Scalar] = Field(default_factory=dict, max_length=256)
    """Training hyperparameters."""
    metrics: dict[Label, float] = Field(default_factory=dict, max_length=256)
    """Evaluation metrics, e.g. `{"accuracy": 0.92}`."""


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class CheckResult(Contract):
    name: ShortText
    """Check plugin name: `policy`, `integrity`, `format-safety`, `benchmark`."""
    status: CheckStatus
    detail: LongText = ""
    """Why it passed, failed or was skipped, in words a submitter can act on."""
    duration_ms: Annotated[float, Field(ge=0)] = 0.0


class LatencyPercentiles(Contract):
    """Percentiles of one latency over the successful requests of a run (0 when none
    succeeded: `failures` then equals `requests`)."""

    p50_ms: float
    p95_ms: float
    p99_ms: float


class BenchmarkRun(Contract):
    """One concurrency level of a serving benchmark."""

    concurrency: Annotated[int, Field(ge=1)]
    """Requests kept in flight at once."""
    requests: int
    """Requests sent at this level."""
    failures: int
    """Requests that got an error status, broke off, timed out or produced no token."""
    duration_s: float
    """Wall-clock time from the first request sent to the last answer received."""
    output_tokens: int
    """Tokens generated over all successful requests."""
    output_tokens_per_s: float
    """`output_tokens / duration_s`, as the benchmark client measured it."""
    requests_per_s: float
    """Successful requests per second."""
    ttft: LatencyPercentiles
    """Time to first token."""
    itl: LatencyPercentiles
    """Inter-token latency."""
    e2e: LatencyPercentiles
    """End-to-end request latency."""
    server_output_tokens_per_s: float | None = None
    """Output tokens/s by the server's own per-request timings (tokens it sent over the time it
    spent answering), when the runner can read them: a cross-check of `output_tokens_per_s`."""


class HardwareInfo(Contract):
    gpu_model: ShortText | None = None
    """GPU name as NVML reports it, e.g. `NVIDIA L4`; none on a CPU-only host."""
    gpu_count: int = 0
    gpu_memory_mib: int | None = None
    """Memory of one GPU."""
    driver_version: ShortText | None = None
    """NVIDIA driver version."""
    cuda_version: ShortText | None = None
    """Highest CUDA version the driver supports, e.g. `12.4`."""
    cpu_model: ShortText | None = None
    cpu_count: int | None = None
    """Logical CPUs this process may run on."""


class BenchmarkResult(Contract):
    runner: ShortText
    """Runner that served the model, e.g. `vllm`, `llama-cpp`."""
    hardware_profile: ShortText
    """Profile id the run was tagged with, e.g. `nvidia-l4-1gpu`, `cpu`."""
    hardware: HardwareInfo
    runs: list[BenchmarkRun]
    peak_memory_mib: float | None = None
    """Peak GPU memory (NVML) or server RSS during the run."""
    workload: dict[Label, Scalar] = Field(default_factory=dict)
    """The fixed workload: seed, prompt and output token lengths, requests per level."""
    server: ShortText | None = None
    """The server that answered and its version, e.g. `vllm 0.11.0`, `llama-cpp-python 0.3.36`."""
    server_args: list[ShortText] = Field(default_factory=list, max_length=256)
    """Arguments the server was started with (model path aside), so a run can be reproduced."""
