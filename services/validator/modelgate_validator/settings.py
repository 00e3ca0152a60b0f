"""Settings of the validator service."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from modelgate_shared.env_values import CsvList
from modelgate_shared.settings import ServiceSettings


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
    benchmark_runners: CsvList = Field(
        default_factory=list, validation_alias="MODELGATE_BENCHMARK_RUNNERS"
    )
    """Runner plugins to try, in order (e.g. `vllm,llama-cpp`); none means the benchmark is
    skipped with the reason."""
    benchmark_required: bool = Field(False, validation_alias="MODELGATE_BENCHMARK_REQUIRED")
    """Whether a skipped benchmark fails the verdict (off on the local stack)."""
