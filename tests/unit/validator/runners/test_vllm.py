"""`vllm serve` as the runner builds it, checked against vLLM's documented CLI
(docs.vllm.ai, "vllm serve" arguments): the model is the positional argument, every option is a
documented long flag with its value in the next argument."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelgate_shared.events import ArtifactFormat, ModelCard
from modelgate_testkit.factories import GOOD_CARD, submitted
from modelgate_validator.runners.hardware import detect
from modelgate_validator.runners.profiles import load_profiles
from modelgate_validator.runners.vllm import (
    UnsupportedQuantization,
    VllmRunner,
    counter_total,
    max_model_len,
    quantization_arg,
    vllm_command,
)
from tests.unit.validator.runners.fakes import FakeNvml, environment, hf_submission, host

# `vllm serve --help` (v0.6 onwards): the options this runner may pass, and whether they take a
# value. Anything else in a command it builds is a mistake.
DOCUMENTED = {
    "--host": True,
    "--port": True,
    "--served-model-name": True,
    "--tensor-parallel-size": True,
    "--gpu-memory-utilization": True,
    "--max-model-len": True,
    "--quantization": True,
    "--seed": True,
    "--max-num-seqs": True,
    "--generation-config": True,
    "--enforce-eager": False,
}
FP8_CARD = ModelCard(**{**GOOD_CARD.model_dump(), "quantization": "fp8-dynamic"})


def options(argv: list[str]) -> dict[str, str | None]:
    """Parse the options after `vllm serve <model>` the way argparse would, strictly."""
    assert argv[1] == "serve"
    assert not argv[2].startswith("-"), "the model directory is the positional argument"
    found: dict[str, str | None] = {}
    rest = argv[3:]
    while rest:
        flag = rest.pop(0)
        assert flag in DOCUMENTED, f"{flag} is not a documented vllm serve option"
        assert flag not in found, f"{flag} given twice"
        found[flag] = rest.pop(0) if DOCUMENTED[flag] else None
    return found


def l4_command(**overrides: object) -> list[str]:
    profile = load_profiles().get("nvidia-l4-1gpu")
    assert profile is not None
    args: dict[str, object] = {
        "executable": "vllm",
        "model_dir": Path("/cache/models/abc"),
        "served_name": "granite-3.1-8b-instruct",
        "port": 8123,
        "profile": profile,
        "quantization": "fp8",
        "max_len": 4096,
        "seed": 7,
        **overrides,
    }
    return vllm_command(**args)  # type: ignore[arg-type]


def test_l4_command_serves_the_model_on_loopback_sized_by_the_profile() -> None:
    argv = l4_command()
    assert argv[:3] == ["vllm", "serve", "/cache/models/abc"]
    assert options(argv) == {
        "--host": "127.0.0.1",
        "--port": "8123",
        "--served-model-name": "granite-3.1-8b-instruct",
        "--tensor-parallel-size": "1",
        "--gpu-memory-utilization": "0.9",
        "--max-model-len": "4096",
        "--seed": "7",
        "--generation-config": "vllm",
        "--quantization": "fp8",
    }


def test_tensor_parallel_size_is_the_profiles_gpu_count() -> None:
    profile = load_profiles().get("nvidia-l4-2gpu")
    assert profile is not None
    assert options(l4_command(profile=profile))["--tensor-parallel-size"] == "2"


def test_profile_extras_and_operator_extras_come_last() -> None:
    base = load_profiles().get("nvidia-h100-80gb-1gpu")
    assert base is not None
    vllm = base.vllm.model_copy(update={"max_num_seqs": 64, "extra_args": ["--enforce-eager"]})
    profile = base.model_copy(update={"vllm": vllm})
    argv = l4_command(profile=profile, quantization=None)
    found = options(argv)
    assert found["--max-num-seqs"] == "64"
    assert "--enforce-eager" in found
    assert "--quantization" not in found


@pytest.mark.parametrize(
    ("card_quantization", "config", "expected"),
    [
        ("fp8-dynamic", {}, "fp8"),
        ("FP8", {}, "fp8"),
        (None, {}, None),
        ("bf16", {}, None),
        # Already quantised (RedHatAI's FP8-dynamic checkpoints are compressed-tensors): vLLM
        # reads the method from config.json; naming one on the command line would clash.
        ("fp8-dynamic", {"quantization_config": {"quant_method": "compressed-tensors"}}, None),
        ("awq", {"quantization_config": {"quant_method": "awq"}}, None),
    ],
)
def test_quantization_comes_from_the_card_unless_the_checkpoint_carries_it(
    card_quantization: str | None, config: dict[str, object], expected: str | None
) -> None:
    card = ModelCard(**{**GOOD_CARD.model_dump(), "quantization": card_quantization})
    assert quantization_arg(card, config) == expected


def test_a_quantization_vllm_cannot_apply_at_load_time_is_refused_with_the_reason() -> None:
    card = ModelCard(**{**GOOD_CARD.model_dump(), "quantization": "gptq-int4"})
    with pytest.raises(UnsupportedQuantization, match="gptq-int4"):
        quantization_arg(card, {})


def test_max_model_len_never_exceeds_what_the_checkpoint_was_trained_for() -> None:
    profile = load_profiles().get("nvidia-h100-80gb-1gpu")
    assert profile is not None
    assert max_model_len(profile, {"max_position_embeddings": 131072}) == 32768
    assert max_model_len(profile, {"max_position_embeddings": 4096}) == 4096
    assert max_model_len(profile, {}) == 32768


async def test_runner_launch_reads_the_checkpoint_and_the_card(tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "config.json").write_text(json.dumps({"max_position_embeddings": 4096}))
    runner = VllmRunner(environment(tmp_path, host(["NVIDIA L4"]), seed=11))
    plan = runner.launch(hf_submission(FP8_CARD), model_dir, 9000, tmp_path / "vllm.log")
    found = options(plan.spec.argv)
    assert found["--quantization"] == "fp8"
    assert found["--max-model-len"] == "4096"
    assert found["--seed"] == "11"
    assert plan.spec.health_url == "http://127.0.0.1:9000/health"
    assert plan.profile.id == "nvidia-l4-1gpu"
    assert plan.spec.env["HF_HUB_OFFLINE"] == "1"


async def test_without_a_gpu_the_runner_is_unavailable_with_nvmls_reason(tmp_path: Path) -> None:
    runner = VllmRunner(environment(tmp_path, detect(FakeNvml([], missing=True))))
    reason = await runner.unavailable(hf_submission())
    assert reason is not None
    assert reason.startswith("no NVIDIA GPU")


async def test_without_vllm_installed_the_runner_says_so(tmp_path: Path) -> None:
    runner = VllmRunner(environment(tmp_path, host(["NVIDIA L4"])), executable="no-such-vllm")
    assert await runner.unavailable(hf_submission()) == (
        "vLLM is not installed here (no 'no-such-vllm' executable)"
    )


async def test_vllm_takes_hugging_face_checkpoints_only(tmp_path: Path) -> None:
    fake_vllm = tmp_path / "vllm"
    fake_vllm.write_text("#!/bin/sh\n")
    fake_vllm.chmod(0o755)
    runner = VllmRunner(environment(tmp_path, host(["NVIDIA L4"])), executable=str(fake_vllm))
    assert await runner.unavailable(hf_submission()) is None
    reason = await runner.unavailable(submitted(format=ArtifactFormat.GGUF))
    assert reason is not None
    assert "serves Hugging Face checkpoints" in reason
    assert "gguf" in reason


async def test_an_unknown_gpu_or_another_profile_is_no_match(tmp_path: Path) -> None:
    fake_vllm = tmp_path / "vllm"
    fake_vllm.write_text("#!/bin/sh\n")
    fake_vllm.chmod(0o755)
    t4 = VllmRunner(environment(tmp_path, host(["Tesla T4"], 15360)), executable=str(fake_vllm))
    reason = await t4.unavailable(hf_submission())
    assert reason is not None
    assert reason.startswith("no hardware profile matches 1 × Tesla T4 (15360 MiB each)")
    l4 = VllmRunner(environment(tmp_path, host(["NVIDIA L4"])), executable=str(fake_vllm))
    asks_h100 = hf_submission(hardware_profile="nvidia-h100-80gb-1gpu")
    assert await l4.unavailable(asks_h100) == (
        "the submission asks for 'nvidia-h100-80gb-1gpu', this host is 'nvidia-l4-1gpu'"
    )


METRICS = """\
# HELP vllm:generation_tokens_total Number of generation tokens processed.
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{engine="0",model_name="granite-3.1-8b-instruct"} 4096.0
vllm:generation_tokens_total{engine="1",model_name="granite-3.1-8b-instruct"} 1024.0
vllm:generation_tokens_created{engine="0",model_name="granite-3.1-8b-instruct"} 1.7e+09
vllm:prompt_tokens_total{engine="0",model_name="granite-3.1-8b-instruct"} 9999.0
"""


def test_the_servers_own_token_count_is_read_from_its_prometheus_counter() -> None:
    assert counter_total(METRICS, "vllm:generation_tokens_total") == 5120.0
    assert counter_total(METRICS, "vllm:no_such_counter") is None
    assert counter_total("vllm:generation_tokens_total 12\n", "vllm:generation_tokens_total") == 12
