"""What every runner does, whoever serves: fetch the model, start the server, wait until it is
ready, run the workload, stop the server (always), and report. A runner subclass says only how
its server is started, which models and hosts it can take, and how memory is measured."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from modelgate_shared.events import BenchmarkResult, ModelSubmitted
from modelgate_validator.artifact_reader import ArtifactReader
from modelgate_validator.checks.benchmark import BenchmarkFailed
from modelgate_validator.runners.hardware import HostHardware
from modelgate_validator.runners.model_cache import ModelCache
from modelgate_validator.runners.openai_bench import LevelTimes, OpenAIServingBenchmark
from modelgate_validator.runners.pidfiles import PidDirectory
from modelgate_validator.runners.profiles import HardwareProfile, ProfileTable
from modelgate_validator.runners.server import ServerProcess, ServerSpec, free_port, running
from modelgate_validator.runners.workload import Workload

log = logging.getLogger(__name__)
KEEP_SERVER_LOGS = 50


@dataclass(frozen=True, kw_only=True)
class RunnerEnvironment:
    """What the validator gives every runner (built once, in main.py)."""

    hardware: HostHardware
    profiles: ProfileTable
    workload: Workload
    pids: PidDirectory
    cache_dir: Path
    cache_max_bytes: int
    server_logs: Path
    ready_timeout_s: float = 900.0
    """How long a server may take to load the model and answer its health check."""
    run_timeout_s: float = 3600.0
    """The whole benchmark of one model, download to stop."""
    stop_grace_s: float = 15.0


@dataclass(frozen=True)
class Launch:
    spec: ServerSpec
    served_model: str
    profile: HardwareProfile
    server: str
    """Name and version of the server, for the report."""


class ServingRunner(ABC):
    name: str

    def __init__(self, env: RunnerEnvironment) -> None:
        self.env = env

    @abstractmethod
    async def unavailable(self, submission: ModelSubmitted) -> str | None:
        """Why this runner cannot benchmark this submission here, or None if it can."""

    @abstractmethod
    def launch(self, submission: ModelSubmitted, model_dir: Path, port: int, log: Path) -> Launch:
        """How the server for this model is started."""

    def requested_mismatch(
        self, submission: ModelSubmitted, profile: HardwareProfile
    ) -> str | None:
        requested = submission.hardware_profile
        if requested is not None and requested != profile.id:
            return f"the submission asks for {requested!r}, this host is {profile.id!r}"
        return None

    @contextlib.asynccontextmanager
    async def memory_peak(self, server: ServerProcess) -> AsyncIterator[list[float | None]]:
        """Measures peak memory while the benchmark runs; the figure is in the list afterwards.
        By default the server's peak resident memory, read just before it stops."""
        peak: list[float | None] = [None]
        try:
            yield peak
        finally:
            peak[0] = server.peak_rss_mib()

    async def level_mark(self, server: ServerProcess) -> float | None:
        """Where the server's own account stands as a level begins (by default: how long its
        log is, so the level's lines can be read afterwards)."""
        try:
            return float(server.spec.log_path.stat().st_size)
        except OSError:
            return None

    async def server_figure(
        self, server: ServerProcess, times: LevelTimes, requests: int, mark: float | None
    ) -> float | None:
        """Output tokens/s of one level by the server's own account, where it gives one."""
        return None

    async def run(self, submission: ModelSubmitted, reader: ArtifactReader) -> BenchmarkResult:
        try:
            async with asyncio.timeout(self.env.run_timeout_s):
                return await self._run(submission, reader)
        except TimeoutError as exc:
            raise BenchmarkFailed(
                f"the benchmark did not finish within {self.env.run_timeout_s:g}s"
            ) from exc

    async def _run(self, submission: ModelSubmitted, reader: ArtifactReader) -> BenchmarkResult:
        cache = ModelCache(self.env.cache_dir, reader, max_bytes=self.env.cache_max_bytes)
        model_dir = await cache.fetch(submission.artifact)
        return await self.benchmark(submission, model_dir)

    async def benchmark(self, submission: ModelSubmitted, model_dir: Path) -> BenchmarkResult:
        """Serve the model already in `model_dir` and measure it (bench/serving.py starts here)."""
        log_path = self._log_path(submission)
        plan = self.launch(submission, model_dir, free_port(), log_path)
        base_url = plan.spec.health_url.split("/", 3)[:3]
        bench = OpenAIServingBenchmark("/".join(base_url), plan.served_model, self.env.workload)
        async with running(
            plan.spec,
            self.env.pids,
            ready_timeout_s=self.env.ready_timeout_s,
            stop_grace_s=self.env.stop_grace_s,
        ) as server:
            async with self.memory_peak(server) as peak:
                figures = _LevelFigures(self, server)
                runs = await bench.run(figures)
            if all(r.failures == r.requests for r in runs):
                raise BenchmarkFailed(
                    f"every request failed; the {self.name} server's log ends:\n{server.log_tail()}"
                )
        return BenchmarkResult(
            runner=self.name,
            hardware_profile=plan.profile.id,
            hardware=self.env.hardware.info,
            runs=runs,
            peak_memory_mib=peak[0],
            workload=self.env.workload.describe(),
            server=plan.server,
            server_args=_reproducible(plan.spec.argv, model_dir),
        )

    def _log_path(self, submission: ModelSubmitted) -> Path:
        logs = self.env.server_logs
        logs.mkdir(parents=True, exist_ok=True, mode=0o700)
        for old in sorted(logs.glob("*.log"), key=lambda p: p.stat().st_mtime)[:-KEEP_SERVER_LOGS]:
            old.unlink(missing_ok=True)
        return logs / f"{submission.submission_id}-{self.name}.log"


class _LevelFigures:
    """Bridges the benchmark's level boundaries to the runner's reading of server timings."""

    def __init__(self, runner: ServingRunner, server: ServerProcess) -> None:
        self.runner = runner
        self.server = server
        self.mark: float | None = None

    async def begin(self) -> None:
        self.mark = await self.runner.level_mark(self.server)

    async def end(self, times: LevelTimes, requests: int) -> float | None:
        return await self.runner.server_figure(self.server, times, requests, self.mark)


def _reproducible(argv: list[str], model_dir: Path) -> list[str]:
    """The server's arguments without the run-specific parts (cache path, random port)."""
    shown = [a.replace(str(model_dir), "<model>") for a in argv[1:]]
    for i, arg in enumerate(shown[:-1]):
        if arg == "--port":
            shown[i + 1] = "<port>"
    return [re.sub(r"\s+", " ", a)[:256] for a in shown][:256]
