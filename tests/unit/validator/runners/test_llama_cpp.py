"""The CPU runner: its command line, which models it takes, and reading llama.cpp's own timings."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from modelgate_shared.events import ArtifactFile, ArtifactFormat, ModelSubmitted
from modelgate_testkit.factories import submitted
from modelgate_validator.runners.hardware import detect
from modelgate_validator.runners.llama_cpp import (
    CompletionTimings,
    LlamaCppRunner,
    llama_cpp_command,
    parse_perf_log,
    server_tokens_per_s,
)
from tests.unit.validator.runners.fakes import FakeNvml, environment, hf_submission

# Two completions as llama-cpp-python 0.3.36 logs them (--verbose True), with server noise.
LOG = """\
INFO:     127.0.0.1:53846 - "POST /v1/completions HTTP/1.1" 200 OK
llama_perf_context_print:        load time =       0.20 ms
llama_perf_context_print: prompt eval time =      13.13 ms /    64 tokens (    0.21 ms per token,  4873.59 tokens per second)
llama_perf_context_print:        eval time =      64.91 ms /    31 runs   (    2.09 ms per token,   477.59 tokens per second)
llama_perf_context_print:       total time =      99.86 ms /    95 tokens
llama_perf_context_print:    graphs reused =         30
Llama.generate: 1 prefix-match hit, remaining 64 prompt tokens to eval
llama_perf_context_print:        load time =       0.20 ms
llama_perf_context_print: prompt eval time =      40.69 ms /    64 tokens (    0.64 ms per token,  1573.06 tokens per second)
llama_perf_context_print:        eval time =      58.02 ms /    31 runs   (    1.87 ms per token,   534.31 tokens per second)
llama_perf_context_print:       total time =     100.14 ms /    95 tokens
"""  # noqa: E501


def gguf_submission(**overrides: Any) -> ModelSubmitted:
    return submitted(
        "tiny-gguf",
        format=ArtifactFormat.GGUF,
        files=[ArtifactFile(path="m/model.gguf", uri="s3://modelgate/m/model.gguf", size=1)],
        **overrides,
    )


def test_each_completions_timings_are_read_from_the_log() -> None:
    assert parse_perf_log(LOG) == [
        CompletionTimings(prompt_tokens=64, generated_tokens=32, total_ms=99.86),
        CompletionTimings(prompt_tokens=64, generated_tokens=32, total_ms=100.14),
    ]


def test_server_tokens_per_s_is_generated_tokens_over_busy_time() -> None:
    assert server_tokens_per_s(parse_perf_log(LOG)) == pytest.approx(64 / 0.2)
    assert server_tokens_per_s([]) is None


def test_command_is_llama_cpp_pythons_server_on_loopback() -> None:
    argv = llama_cpp_command(
        model=Path("/c/model.gguf"), served_name="tiny", port=8000, n_ctx=512, threads=3
    )
    assert argv[:3] == [sys.executable, "-m", "llama_cpp.server"]
    flags = dict(zip(argv[3::2], argv[4::2], strict=True))
    assert flags == {
        "--model": "/c/model.gguf",
        "--model_alias": "tiny",
        "--host": "127.0.0.1",
        "--port": "8000",
        "--n_ctx": "512",
        "--n_threads": "3",
        "--n_threads_batch": "3",
        "--interrupt_requests": "False",
        "--verbose": "True",
    }


async def test_the_cpu_runner_takes_one_gguf_file(tmp_path: Path) -> None:
    runner = LlamaCppRunner(environment(tmp_path, detect(FakeNvml([], missing=True))))
    assert await runner.unavailable(gguf_submission()) is None
    reason = await runner.unavailable(hf_submission())
    assert reason == "serves one GGUF file; this artifact is hf-directory with 0 .gguf file(s)"
    asks_l4 = gguf_submission(hardware_profile="nvidia-l4-1gpu")
    assert await runner.unavailable(asks_l4) == (
        "the submission asks for 'nvidia-l4-1gpu', this host is 'cpu'"
    )


async def test_launch_sizes_the_context_for_the_workload(tmp_path: Path) -> None:
    env = environment(tmp_path, detect(FakeNvml([], missing=True)), prompt_tokens=100)
    runner = LlamaCppRunner(env, threads=2)
    plan = runner.launch(gguf_submission(), tmp_path, 8001, tmp_path / "l.log")
    flags = dict(zip(plan.spec.argv[3::2], plan.spec.argv[4::2], strict=True))
    assert flags["--model"] == str(tmp_path / "m/model.gguf")
    assert int(flags["--n_ctx"]) >= 2 * 100 + env.workload.output_tokens
    assert flags["--n_threads"] == "2"
    assert plan.profile.id == "cpu"
    assert plan.server.startswith("llama-cpp-python 0.3.")
