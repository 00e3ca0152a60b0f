"""The CPU runner with llama.cpp's real server and the real MinIO: it measures, and it always
stops the server — after success, when the model cannot be loaded, on timeout, on cancellation."""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from modelgate_shared.events import ArtifactFile, ArtifactFormat, ModelSubmitted
from modelgate_shared.settings import ServiceSettings
from modelgate_testkit.factories import submitted
from modelgate_testkit.gguf_model import write_tiny_llama
from modelgate_validator.artifact_reader import ArtifactReader
from modelgate_validator.checks.benchmark import BenchmarkFailed
from modelgate_validator.runners import hardware
from modelgate_validator.runners.llama_cpp import LlamaCppRunner
from modelgate_validator.runners.pidfiles import PidDirectory, group_members
from modelgate_validator.runners.profiles import load_profiles
from modelgate_validator.runners.serving import RunnerEnvironment
from modelgate_validator.runners.workload import Workload

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SMALL = Workload(prompt_tokens=16, output_tokens=16, concurrency=(1, 2), rounds=2, min_requests=2)


def environment(tmp_path: Path, workload: Workload = SMALL, **kw: float) -> RunnerEnvironment:
    return RunnerEnvironment(
        hardware=hardware.detect(),
        profiles=load_profiles(),
        workload=workload,
        pids=PidDirectory(tmp_path / "servers"),
        cache_dir=tmp_path / "cache",
        cache_max_bytes=1 << 30,
        server_logs=tmp_path / "logs",
        ready_timeout_s=kw.get("ready_timeout_s", 60),
        run_timeout_s=kw.get("run_timeout_s", 120),
        stop_grace_s=5,
    )


async def upload(reader: ArtifactReader, settings: ServiceSettings, data: bytes) -> ModelSubmitted:
    key = f"runner-test/{uuid.uuid4()}/model.gguf"
    await reader.s3.put_object(Bucket=settings.s3_bucket, Key=key, Body=data)
    return submitted(
        "tiny-gguf",
        format=ArtifactFormat.GGUF,
        files=[
            ArtifactFile(
                path="model.gguf",
                uri=f"s3://{settings.s3_bucket}/{key}",
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
            )
        ],
    )


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_tiny_llama(tmp_path_factory.mktemp("gguf") / "tiny.gguf").read_bytes()


def no_server_left(env: RunnerEnvironment, pgids: list[int]) -> None:
    assert env.pids.records() == [], "every pid file is removed once its server is gone"
    for pgid in pgids:
        assert group_members(pgid) == [], f"process group {pgid} still has members"


def server_pids_from_logs(env: RunnerEnvironment) -> list[int]:
    """The pid each server reported (uvicorn logs "Started server process [pid]")."""
    found = re.findall(
        r"Started server process \[(\d+)\]",
        "".join(log.read_text(errors="replace") for log in env.server_logs.glob("*.log")),
    )
    return [int(pid) for pid in found]


async def test_the_runner_measures_the_model_and_stops_the_server(
    reader: ArtifactReader, settings: ServiceSettings, tiny_model: bytes, tmp_path: Path
) -> None:
    env = environment(tmp_path)
    runner = LlamaCppRunner(env, threads=1)
    submission = await upload(reader, settings, tiny_model)
    assert await runner.unavailable(submission) is None

    result = await runner.run(submission, reader)

    assert result.runner == "llama-cpp"
    assert result.hardware_profile == "cpu"
    assert result.server is not None
    assert result.server.startswith("llama-cpp-python")
    assert [(r.concurrency, r.requests, r.failures) for r in result.runs] == [(1, 2, 0), (2, 4, 0)]
    for run in result.runs:
        assert run.output_tokens == run.requests * SMALL.output_tokens
        assert run.output_tokens_per_s > 0
        assert 0 < run.ttft.p50_ms <= run.ttft.p99_ms <= run.e2e.p99_ms
        assert run.server_output_tokens_per_s is not None
    assert result.peak_memory_mib is not None
    assert result.peak_memory_mib > 0
    assert "<port>" in result.server_args
    (pid,) = server_pids_from_logs(env)
    no_server_left(env, [pid])


async def test_a_model_llama_cpp_cannot_load_fails_with_the_servers_own_reason(
    reader: ArtifactReader, settings: ServiceSettings, tiny_model: bytes, tmp_path: Path
) -> None:
    env = environment(tmp_path)
    truncated = tiny_model[: len(tiny_model) // 2]  # a valid header, half the tensor data
    submission = await upload(reader, settings, truncated)
    with pytest.raises(BenchmarkFailed, match="exited with code") as failure:
        await LlamaCppRunner(env, threads=1).run(submission, reader)
    assert "llama" in str(failure.value).lower(), "the reason quotes the server's log"
    no_server_left(env, [])


async def test_a_benchmark_past_its_time_limit_fails_and_stops_the_server(
    reader: ArtifactReader, settings: ServiceSettings, tiny_model: bytes, tmp_path: Path
) -> None:
    endless = replace(SMALL, output_tokens=100_000, concurrency=(1,))
    env = environment(tmp_path, endless, run_timeout_s=8)
    submission = await upload(reader, settings, tiny_model)
    started: list[int] = []

    async def watch() -> None:
        while not started:
            started.extend(r.pid for r in env.pids.records())
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    with pytest.raises(BenchmarkFailed, match="did not finish within 8s"):
        await LlamaCppRunner(env, threads=1).run(submission, reader)
    watcher.cancel()
    assert started, "the server had started"
    no_server_left(env, started)


async def test_a_cancelled_benchmark_stops_the_server(
    reader: ArtifactReader, settings: ServiceSettings, tiny_model: bytes, tmp_path: Path
) -> None:
    endless = replace(SMALL, output_tokens=100_000, concurrency=(1,))
    env = environment(tmp_path, endless)
    submission = await upload(reader, settings, tiny_model)
    task = asyncio.create_task(LlamaCppRunner(env, threads=1).run(submission, reader))
    for _ in range(600):
        records = env.pids.records()
        log = next(env.server_logs.glob("*.log"), None)
        if records and log is not None and "POST /v1/completions" in log.read_text():
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the benchmark never started")
    pgid = records[0].pgid
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    no_server_left(env, [pgid])
