"""deploy/gpu/ has what an NVIDIA host needs (no Docker engine or cluster runs here to try it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
GPU = ROOT / "deploy" / "gpu"


def test_the_compose_override_runs_the_validator_with_vllm_on_the_nvidia_runtime() -> None:
    compose: dict[str, Any] = yaml.safe_load((GPU / "compose.gpu.yml").read_text())
    validator = compose["services"]["validator"]
    assert validator["runtime"] == "nvidia"
    assert "utility" in validator["environment"]["NVIDIA_DRIVER_CAPABILITIES"], "NVML needs it"
    assert validator["environment"]["MODELGATE_BENCHMARK_RUNNERS"] == "vllm"
    assert (ROOT / validator["build"]["context"] / validator["build"]["dockerfile"]) == (
        GPU / "Dockerfile"
    )
    work = validator["environment"]["MODELGATE_VALIDATOR_WORK_DIR"]
    assert any(
        v.split(":")[0] in compose["volumes"] and v.endswith(work) for v in validator["volumes"]
    )
    base: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "validator" in base["services"], "it overrides the base file's validator"


def test_the_gpu_image_is_vllms_with_the_validator_from_the_lock_file() -> None:
    text = (GPU / "Dockerfile").read_text()
    assert "vllm/vllm-openai:" in text
    assert "uv sync --frozen" in text
    assert "--package modelgate-validator" in text
    assert "USER modelgate" in text
    assert 'ENTRYPOINT ["modelgate-validator"]' in text


def test_the_kubernetes_manifest_asks_for_one_gpu_on_an_l4_node() -> None:
    documents = list(yaml.safe_load_all((GPU / "validator-l4.yaml").read_text()))
    kinds = {d["kind"]: d for d in documents}
    assert set(kinds) == {"PersistentVolumeClaim", "Deployment"}
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-L4"}
    (container,) = pod["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["resources"]["requests"]["nvidia.com/gpu"] == 1
    env = {e["name"]: e.get("value") or e["valueFrom"] for e in container["env"]}
    assert env["MODELGATE_BENCHMARK_RUNNERS"] == "vllm"
    # The validator's own database role, not the owner's DATABASE_URL of the stack's env.
    assert env["DATABASE_URL"]["secretKeyRef"]["key"] == "VALIDATOR_DATABASE_URL"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/dev/shm", env["MODELGATE_VALIDATOR_WORK_DIR"]} <= mounts
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert kinds["Deployment"]["spec"]["strategy"]["type"] == "Recreate"
