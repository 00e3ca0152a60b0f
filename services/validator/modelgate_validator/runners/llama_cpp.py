"""The CPU runner: llama.cpp's OpenAI-compatible server from `llama-cpp-python[server]`, serving
a GGUF model on this host's CPUs (hardware profile `cpu`).

llama.cpp prints its own timings of every completion (`llama_perf_context_print`: prompt eval,
eval and total time, with token counts) to the server's log; the runner reads them back to give
each level a server-side output tokens/s beside the client's.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from modelgate_shared.events import ArtifactFormat, ModelSubmitted
from modelgate_validator.runners.openai_bench import LevelTimes
from modelgate_validator.runners.profiles import CPU_PROFILE, HardwareProfile
from modelgate_validator.runners.server import ServerProcess, ServerSpec
from modelgate_validator.runners.serving import Launch, RunnerEnvironment, ServingRunner

_PERF = re.compile(
    r"llama_perf_context_print:\s+(?P<what>prompt eval|eval|total) time =\s+(?P<ms>[\d.]+) ms /"
    r"\s+(?P<n>\d+) (?:tokens|runs)"
)


@dataclass(frozen=True)
class CompletionTimings:
    """llama.cpp's own timing of one completion."""

    prompt_tokens: int
    generated_tokens: int
    total_ms: float


def parse_perf_log(text: str) -> list[CompletionTimings]:
    """Every completion's timings in a llama.cpp log, in order. The first generated token comes
    from the prompt's evaluation, so a completion generated `eval runs + 1` tokens."""
    found = []
    prompt = runs = 0
    for match in _PERF.finditer(text):
        n = int(match["n"])
        if match["what"] == "prompt eval":
            prompt = n
        elif match["what"] == "eval":
            runs = n
        else:
            found.append(CompletionTimings(prompt, runs + 1, float(match["ms"])))
            prompt = runs = 0
    return found


def server_tokens_per_s(timings: list[CompletionTimings]) -> float | None:
    """Generated tokens over the time llama.cpp spent on the completions. The server answers
    one completion at a time, so the sum of their times is the time it was busy."""
    busy_ms = sum(t.total_ms for t in timings)
    if not timings or busy_ms <= 0:
        return None
    return round(sum(t.generated_tokens for t in timings) / (busy_ms / 1000), 3)


class LlamaCppRunner(ServingRunner):
    name = "llama-cpp"

    def __init__(self, env: RunnerEnvironment, *, threads: int | None = None) -> None:
        super().__init__(env)
        # One CPU is left to the benchmark client (and the validator) on the same host: with
        # every CPU busy in llama.cpp's thread pool, the client's timestamps come late.
        self.threads = threads or max(1, (env.hardware.info.cpu_count or 1) - 1)

    def _profile(self) -> HardwareProfile | None:
        return self.env.profiles.get(CPU_PROFILE)

    async def unavailable(self, submission: ModelSubmitted) -> str | None:
        if importlib.util.find_spec("llama_cpp") is None:
            return (
                "llama-cpp-python[server] is not installed here "
                "(install modelgate-validator[llama-cpp])"
            )
        artifact = submission.artifact
        ggufs = [f for f in artifact.files if f.path.endswith(".gguf")]
        if artifact.format != ArtifactFormat.GGUF or len(ggufs) != 1:
            return (
                f"serves one GGUF file; this artifact is {artifact.format.value} "
                f"with {len(ggufs)} .gguf file(s)"
            )
        profile = self._profile()
        if profile is None:
            return f"the hardware profile table has no {CPU_PROFILE!r} profile"
        return self.requested_mismatch(submission, profile)

    def launch(self, submission: ModelSubmitted, model_dir: Path, port: int, log: Path) -> Launch:
        profile = self._profile()
        assert profile is not None
        (gguf,) = [f for f in submission.artifact.files if f.path.endswith(".gguf")]
        workload = self.env.workload
        # Room for the prompt (words may split into several tokens) and the output.
        n_ctx = 2 * workload.prompt_tokens + workload.output_tokens + 64
        argv = llama_cpp_command(
            model=model_dir / gguf.path,
            served_name=submission.name,
            port=port,
            n_ctx=n_ctx,
            threads=self.threads,
        )
        return Launch(
            spec=ServerSpec(
                name=self.name,
                argv=argv,
                health_url=f"http://127.0.0.1:{port}/v1/models",
                log_path=log,
            ),
            served_model=submission.name,
            profile=profile,
            server=f"llama-cpp-python {importlib.metadata.version('llama-cpp-python')}",
        )

    async def server_figure(
        self, server: ServerProcess, times: LevelTimes, requests: int, mark: float | None
    ) -> float | None:
        log_offset = int(mark or 0)
        # llama.cpp prints a completion's timings as its stream ends, which may be just after
        # the client saw the end: wait (briefly) until every request of the level is there.
        timings: list[CompletionTimings] = []
        for _ in range(40):
            timings = parse_perf_log(_read_from(server.spec.log_path, log_offset))
            if len(timings) >= requests:
                break
            await asyncio.sleep(0.05)
        return server_tokens_per_s(timings)


def llama_cpp_command(
    *, model: Path, served_name: str, port: int, n_ctx: int, threads: int
) -> list[str]:
    """`python -m llama_cpp.server` as the runner starts it."""
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model", str(model),
        "--model_alias", served_name,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--n_threads", str(threads),
        "--n_threads_batch", str(threads),
        # By default a new request interrupts the stream being generated: a concurrency
        # benchmark would measure nothing but interruptions.
        "--interrupt_requests", "False",
        # Verbose: llama.cpp prints its per-completion timings, which the runner reads back.
        "--verbose", "True",
    ]  # fmt: skip


def _read_from(path: Path, offset: int) -> str:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read().decode(errors="replace")
