"""Settings of the validator service."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field
from pydantic_settings import NoDecode

from modelgate_shared.env_values import CsvList
from modelgate_shared.settings import ServiceSettings
from modelgate_validator.runners.workload import Workload


def _int_csv(value: object) -> object:
    if isinstance(value, str):
        return tuple(int(p) for p in value.split(",") if p.strip())
    return value


IntCsv = Annotated[tuple[int, ...], NoDecode, BeforeValidator(_int_csv)]


class ValidatorSettings(ServiceSettings):
    service_name: str = "validator"
    http_port: int = Field(8083, validation_alias="MODELGATE_VALIDATOR_PORT")
    work_dir: Path = Field(
        Path("/tmp/modelgate-validator"),  # noqa: S108 (per-process subdirectories, 0700)
        validation_alias="MODELGATE_VALIDATOR_WORK_DIR",
    )
    """Where files that need a local copy (ONNX, pickles) are streamed to, then deleted."""
    s3_attempts: int = Field(5, ge=1, validation_alias="MODELGATE_S3_ATTEMPTS")
    """How often a read from S3 is tried before the submission fails with the reason."""
    s3_backoff_initial_s: float = Field(0.5, validation_alias="MODELGATE_S3_BACKOFF_INITIAL_S")
    s3_backoff_max_s: float = Field(8.0, validation_alias="MODELGATE_S3_BACKOFF_MAX_S")
    read_chunk_bytes: int = Field(8 * 1024 * 1024, validation_alias="MODELGATE_READ_CHUNK_BYTES")
    pin_retention_days: int = Field(3650, ge=1, validation_alias="MODELGATE_PIN_RETENTION_DAYS")
    """How long each pinned copy is under Object Lock retention: archived versions are kept
    for compliance, never erased, so years rather than days."""
    pin_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(
        "GOVERNANCE", validation_alias="MODELGATE_PIN_LOCK_MODE"
    )
    """Object Lock mode of pinned copies. GOVERNANCE: a principal allowed to bypass governance
    (MinIO's root user) can still delete a pinned version, which the local stack and the tests'
    cleanup need. COMPLIANCE: nobody can, not even root, until the retention ends."""
    signing_policy: Path | None = Field(None, validation_alias="MODELGATE_SIGNING_POLICY")
    """The signing policy (YAML): trusted OMS signers per model, where a signature is required
    (signing_policy.py, docs/signing.md). Unset: signatures are not verified."""
    gate_signing_key: Path | None = Field(None, validation_alias="MODELGATE_GATE_SIGNING_KEY")
    """The gate's EC P-256 private key (PEM): signs each validated version's pinned files in
    OMS format (`modelgate.sig`). Kept like the audit signing key: a file, never in the database.
    Unset: versions are not signed by the gate."""
    benchmark_runners: CsvList = Field(
        default_factory=list, validation_alias="MODELGATE_BENCHMARK_RUNNERS"
    )
    """Runner plugins to try, in order (e.g. `vllm,llama-cpp`); none means the benchmark is
    skipped with the reason."""
    benchmark_required: bool = Field(False, validation_alias="MODELGATE_BENCHMARK_REQUIRED")
    """Whether a skipped benchmark fails the verdict (off on the local stack)."""

    # Benchmark runners (see modelgate_validator.runners and the README's GPU validator section).
    hardware_profiles_file: Path | None = Field(
        None, validation_alias="MODELGATE_HARDWARE_PROFILES_FILE"
    )
    """YAML or JSON table of hardware profiles and thresholds; the built-in one when unset."""
    model_cache_dir: Path | None = Field(None, validation_alias="MODELGATE_MODEL_CACHE_DIR")
    """Where runners keep verified local copies of models (default: `<work dir>/model-cache`)."""
    model_cache_max_gb: float = Field(200.0, gt=0, validation_alias="MODELGATE_MODEL_CACHE_MAX_GB")
    benchmark_ready_timeout_s: float = Field(
        900.0, gt=0, validation_alias="MODELGATE_BENCHMARK_READY_TIMEOUT_S"
    )
    """How long a model server may take to load the model and become ready."""
    benchmark_timeout_s: float = Field(
        3600.0, gt=0, validation_alias="MODELGATE_BENCHMARK_TIMEOUT_S"
    )
    """The whole benchmark of one model, from download to the server's stop."""
    benchmark_seed: int = Field(Workload.seed, validation_alias="MODELGATE_BENCHMARK_SEED")
    benchmark_prompt_tokens: int = Field(
        Workload.prompt_tokens, ge=1, validation_alias="MODELGATE_BENCHMARK_PROMPT_TOKENS"
    )
    benchmark_output_tokens: int = Field(
        Workload.output_tokens, ge=1, validation_alias="MODELGATE_BENCHMARK_OUTPUT_TOKENS"
    )
    benchmark_concurrency: IntCsv = Field(
        Workload.concurrency, min_length=1, validation_alias="MODELGATE_BENCHMARK_CONCURRENCY"
    )
    benchmark_rounds: int = Field(
        Workload.rounds, ge=1, validation_alias="MODELGATE_BENCHMARK_ROUNDS"
    )
    benchmark_min_requests: int = Field(
        Workload.min_requests, ge=1, validation_alias="MODELGATE_BENCHMARK_MIN_REQUESTS"
    )
    llama_cpp_threads: int | None = Field(
        None, ge=1, validation_alias="MODELGATE_LLAMA_CPP_THREADS"
    )
    """Threads of the CPU runner's server (default: every CPU this process may use)."""
    vllm_executable: str = Field("vllm", validation_alias="MODELGATE_VLLM_EXECUTABLE")
    vllm_extra_args: str = Field("", validation_alias="MODELGATE_VLLM_EXTRA_ARGS")
    """Further `vllm serve` arguments for every model, shell-quoted."""

    def workload(self) -> Workload:
        return Workload(
            seed=self.benchmark_seed,
            prompt_tokens=self.benchmark_prompt_tokens,
            output_tokens=self.benchmark_output_tokens,
            concurrency=self.benchmark_concurrency,
            rounds=self.benchmark_rounds,
            min_requests=self.benchmark_min_requests,
        )
