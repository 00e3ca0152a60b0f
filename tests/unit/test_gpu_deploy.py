"""deploy/gpu/ has what an NVIDIA Docker host needs (no Docker engine runs here to try it); the
Kubernetes side is the Helm chart's GPU validator (tests/unit/helm)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.unit.images import DOCKERFILE, dockerfile_stages

ROOT = Path(__file__).resolve().parents[2]
GPU = ROOT / "deploy" / "gpu"


def test_the_compose_override_runs_the_validator_with_vllm_on_the_nvidia_runtime() -> None:
    compose: dict[str, Any] = yaml.safe_load((GPU / "compose.gpu.yml").read_text())
    validator = compose["services"]["validator"]
    assert validator["runtime"] == "nvidia"
    assert "utility" in validator["environment"]["NVIDIA_DRIVER_CAPABILITIES"], "NVML needs it"
    assert validator["environment"]["MODELGATE_BENCHMARK_RUNNERS"] == "vllm"
    assert ROOT / validator["build"]["context"] / validator["build"]["dockerfile"] == DOCKERFILE
    assert validator["build"]["target"] == "validator-gpu"
    assert "validator-gpu" in dockerfile_stages()
    work = validator["environment"]["MODELGATE_VALIDATOR_WORK_DIR"]
    assert any(
        v.split(":")[0] in compose["volumes"] and v.endswith(work) for v in validator["volumes"]
    )
    base: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "validator" in base["services"], "it overrides the base file's validator"


def test_the_gpu_image_is_vllms_with_the_validator_from_the_lock_file() -> None:
    text = DOCKERFILE.read_text()
    gpu = text[text.index("AS validator-gpu") :]
    assert "ARG VLLM_IMAGE=vllm/vllm-openai:" in text
    assert "uv sync --frozen" in gpu
    assert "--package modelgate-validator" in gpu
    assert "USER 10001" in gpu, "numeric, so runAsNonRoot can check it"
    assert 'ENTRYPOINT ["modelgate-validator"]' in gpu


def test_no_shipped_image_keeps_the_source_tree_in_a_layer() -> None:
    """A `COPY . ` layer stays in the image even when a later layer deletes it: shipped stages
    read the source through a build-time mount, or copy only what another stage built."""
    text = DOCKERFILE.read_text()
    stages = re.split(r"^FROM\s+", text, flags=re.M)[1:]
    shipped = {"service", "validator-gpu", "default"}
    for stage in stages:
        name = stage.split()[2] if len(stage.split()) > 2 else ""
        if name in shipped:
            assert not re.search(r"^COPY\s+\.\s", stage, re.M), f"stage {name} copies the source"
