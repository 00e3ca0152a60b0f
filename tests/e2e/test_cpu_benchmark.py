"""The benchmark runners end to end on CPU: a generated GGUF model uploaded through ingest is
served by llama.cpp's real server inside a real validator process, measured, certified for the
`cpu` profile, and the server is gone afterwards — also when the validator is killed -9 in the
middle of the benchmark and restarted."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from modelgate_shared.events import CheckStatus, ModelValidated, Verdict
from modelgate_shared.topics import Topics
from modelgate_testkit.factories import GOOD_CARD
from modelgate_testkit.gguf_model import write_tiny_llama
from modelgate_testkit.kafka import Seen, TopicTap, provision_topics
from modelgate_testkit.namespace import Namespace
from modelgate_testkit.services import ServiceProcess
from modelgate_validator.runners.pidfiles import PidDirectory, group_members

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Small enough for two cores, large enough that llama.cpp's compute, not HTTP, dominates.
WORKLOAD = {
    "MODELGATE_BENCHMARK_PROMPT_TOKENS": "32",
    "MODELGATE_BENCHMARK_OUTPUT_TOKENS": "32",
    "MODELGATE_BENCHMARK_CONCURRENCY": "1,4",
    "MODELGATE_BENCHMARK_ROUNDS": "2",
    "MODELGATE_BENCHMARK_MIN_REQUESTS": "4",
    "MODELGATE_LLAMA_CPP_THREADS": "1",
}


class Gate:
    """Ingest and a validator with the CPU runner, on topics of their own."""

    def __init__(self, namespace: Namespace, directory: Path) -> None:
        self.topics = Topics(prefix=f"{namespace.topic_prefix}cpubench.")
        self.work_dir = directory / "validator-work"
        env = {
            **WORKLOAD,
            "MODELGATE_TOPIC_PREFIX": self.topics.prefix,
            "MODELGATE_BENCHMARK_RUNNERS": "llama-cpp",
            "MODELGATE_VALIDATOR_WORK_DIR": str(self.work_dir),
        }
        self.ingest = ServiceProcess(
            "ingest", {**namespace.env("ingest"), **env}, directory / "logs"
        )
        self.validator = ServiceProcess(
            "validator", {**namespace.env("validator"), **env}, directory / "logs"
        )
        self.servers = PidDirectory(self.work_dir / "servers")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("model") / "tiny.gguf"
    return write_tiny_llama(path, embedding=512, layers=8, feed_forward=1536).read_bytes()


@pytest.fixture(scope="module")
async def gate(
    namespace: Namespace, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gate]:
    running = Gate(namespace, tmp_path_factory.mktemp("cpubench"))
    await provision_topics(namespace.infra.kafka, running.topics)
    await asyncio.to_thread(running.ingest.start)
    await asyncio.to_thread(running.validator.start)
    try:
        yield running
    finally:
        for service in (running.validator, running.ingest):
            if service.proc is not None and service.proc.poll() is None:
                await asyncio.to_thread(service.stop)


@pytest.fixture(scope="module")
async def verdicts(gate: Gate, namespace: Namespace) -> AsyncIterator[TopicTap]:
    tap = await TopicTap(namespace.infra.kafka, [gate.topics.validated]).start()
    yield tap
    await tap.stop()


async def submit(gate: Gate, namespace: Namespace, model: bytes, version: str) -> str:
    metadata = {
        "name": "tiny-llama-gguf",
        "version": version,
        "model_card": {**GOOD_CARD.model_dump(exclude_none=True), "framework": "llama.cpp"},
    }
    parts: list[tuple[str, tuple[str | None, bytes | str, str]]] = [
        ("metadata", (None, json.dumps(metadata), "application/json")),
        ("file", ("model.gguf", model, "application/octet-stream")),
    ]
    async with httpx.AsyncClient(base_url=gate.ingest.url, timeout=120) as client:
        answer = await client.post(
            "/api/v1/submissions", files=parts, headers=namespace.auth("data-scientist")
        )
    assert answer.status_code == 202, answer.text
    submission_id: str = answer.json()["submission_id"]
    return submission_id


def answers_to(submission_id: str) -> object:
    def match(seen: Seen) -> bool:
        return (
            seen.event is not None
            and isinstance(seen.event.data, ModelValidated)
            and str(seen.event.data.submission.submission_id) == submission_id
        )

    return match


async def verdict(tap: TopicTap, submission_id: str, timeout_s: float = 110) -> ModelValidated:
    (seen,) = await tap.wait_for(answers_to(submission_id), timeout_s=timeout_s)  # type: ignore[arg-type]
    assert seen.event is not None
    data = seen.event.data
    assert isinstance(data, ModelValidated)
    return data


def llama_servers() -> list[int]:
    """Every llama.cpp server process on this machine that serves a model from a cache."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"llama_cpp.server" in argv and any(b"model-cache" in a for a in argv):
                found.append(int(entry.name))
    return found


async def test_a_gguf_model_is_benchmarked_on_cpu_and_certified(
    gate: Gate, namespace: Namespace, model: bytes, verdicts: TopicTap
) -> None:
    before = set(llama_servers())
    submission_id = await submit(gate, namespace, model, "1.0.0")
    validated = await verdict(verdicts, submission_id)

    checks = {c.name: c for c in validated.checks}
    assert validated.verdict == Verdict.PASSED, [
        (c.name, c.status, c.detail) for c in checks.values()
    ]
    assert checks["benchmark"].status == CheckStatus.PASSED
    assert "llama-cpp on cpu" in checks["benchmark"].detail
    assert "certified for cpu" in checks["benchmark"].detail
    assert validated.certified_hardware_profiles == ["cpu"]

    result = validated.benchmark
    assert result is not None
    assert result.runner == "llama-cpp"
    assert result.hardware_profile == "cpu"
    assert result.hardware.gpu_count == 0
    assert result.hardware.cpu_count
    assert result.server is not None
    assert result.server.startswith("llama-cpp-python ")
    assert result.peak_memory_mib is not None
    assert result.peak_memory_mib > 50, "the server's resident memory holds the 56 MB model"
    assert result.workload["concurrency"] == "1,4"
    assert [(r.concurrency, r.requests, r.failures) for r in result.runs] == [(1, 4, 0), (4, 8, 0)]
    for run in result.runs:
        assert run.output_tokens == run.requests * 32
        assert run.output_tokens_per_s > 0
        assert run.requests_per_s > 0
        assert 0 < run.ttft.p50_ms <= run.ttft.p95_ms <= run.ttft.p99_ms
        assert 0 < run.itl.p50_ms <= run.itl.p99_ms
        assert run.ttft.p99_ms <= run.e2e.p99_ms
        # The client's throughput agrees with llama.cpp's own per-request timings.
        assert run.server_output_tokens_per_s is not None
        agreement = run.output_tokens_per_s / run.server_output_tokens_per_s
        assert 0.9 <= agreement <= 1.1, (run.output_tokens_per_s, run.server_output_tokens_per_s)
    print(  # the figures, for the record (pytest -s)
        "\ncpu benchmark:",
        [
            (r.concurrency, r.output_tokens_per_s, r.server_output_tokens_per_s, r.ttft.p50_ms)
            for r in result.runs
        ],
    )

    assert gate.servers.records() == []
    assert set(llama_servers()) <= before, "the server is stopped once the benchmark is done"


async def test_a_validator_killed_mid_benchmark_answers_once_and_leaves_no_server(
    gate: Gate, namespace: Namespace, model: bytes, verdicts: TopicTap
) -> None:
    submission_id = await submit(gate, namespace, model, "2.0.0")

    # Wait until the validator's server is answering the benchmark's requests, then kill -9.
    server_log = gate.work_dir / "server-logs" / f"{submission_id}-llama-cpp.log"
    deadline = time.monotonic() + 60
    while "POST /v1/completions" not in _text(server_log):
        assert time.monotonic() < deadline, "the benchmark never started"
        await asyncio.sleep(0.05)
    (record,) = gate.servers.records()
    gate.validator.kill()

    # A new validator on the same host and work directory: it reaps what is left, and the
    # redelivered submission is benchmarked again, from the start.
    await asyncio.to_thread(gate.validator.start)
    assert group_members(record.pgid) == [], "no process of the killed validator's server"

    validated = await verdict(verdicts, submission_id)
    assert validated.verdict == Verdict.PASSED, validated.checks
    assert validated.certified_hardware_profiles == ["cpu"]
    await asyncio.sleep(3)  # time for a duplicate answer to show up, if one were coming
    assert len(verdicts.matching(answers_to(submission_id))) == 1  # type: ignore[arg-type]
    assert gate.servers.records() == []
    assert record.pid not in llama_servers()
    assert not [pid for pid in llama_servers() if str(gate.work_dir) in _cmdline(pid)]


def _text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
