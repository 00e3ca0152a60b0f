"""A model server's whole life as a child process: start it on 127.0.0.1, wait until it answers,
and always stop it — on success, failure, timeout and cancellation alike.

The server leads a session and process group of its own, so stopping it signals every process
it started (vLLM's engine and workers hold the GPU). It is recorded in the pid directory until
it is gone, and it gets SIGTERM from the kernel if the validator dies first (PR_SET_PDEATHSIG):
a validator killed with SIGKILL leaves nothing behind that the next one does not reap.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import re
import signal
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from modelgate_validator.checks.benchmark import BenchmarkFailed
from modelgate_validator.runners.pidfiles import PidDirectory, group_members, signal_group

log = logging.getLogger(__name__)

# Loaded before any fork: the child may only call what is already there (no imports, no locks).
_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1

# What a server inherits from the validator's environment: never its database or S3 secrets.
_INHERITED = re.compile(
    r"^(PATH|HOME|USER|LANG|LC_\w+|TZ|TMPDIR|LD_LIBRARY_PATH|XDG_\w+|"
    r"CUDA_\w+|NVIDIA_\w+|NCCL_\w+|HF_\w+|VLLM_\w+|TRANSFORMERS_\w+|OMP_\w+)$"
)


class ServerFailed(BenchmarkFailed):
    """The server could not be started, died, or never became ready."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if _INHERITED.match(k)}, **extra}


@dataclass(frozen=True, kw_only=True)
class ServerSpec:
    name: str
    argv: list[str]
    health_url: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)


class ServerProcess:
    def __init__(self, spec: ServerSpec, pids: PidDirectory) -> None:
        self.spec = spec
        self.pids = pids
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        self.spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.spec.log_path.open("ab") as out:
            try:
                self.proc = await asyncio.create_subprocess_exec(
                    *self.spec.argv,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=out,
                    stderr=asyncio.subprocess.STDOUT,
                    env=child_environment(self.spec.env),
                    start_new_session=True,
                    # Runs in the child before exec: it only calls prctl, resolved at import.
                    preexec_fn=_die_with_parent,
                )
            except OSError as exc:  # no such executable, not executable, out of processes
                raise ServerFailed(f"could not start {self.spec.argv[0]}: {exc}") from exc
        self.pids.record(self.spec.name, self.proc.pid, self.spec.argv)
        log.info("started %s server %d: %s", self.spec.name, self.proc.pid, self.spec.argv)

    async def wait_ready(self, timeout_s: float) -> None:
        assert self.proc is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        async with httpx.AsyncClient(timeout=5.0) as client:
            while loop.time() < deadline:
                if self.proc.returncode is not None:
                    raise ServerFailed(
                        f"{self.spec.name} server exited with code {self.proc.returncode} "
                        f"before it was ready; its log ends:\n{self.log_tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(self.spec.health_url)).status_code == 200:
                        return
                await asyncio.sleep(0.5)
        raise ServerFailed(
            f"{self.spec.name} server not ready after {timeout_s:g}s; its log ends:\n"
            f"{self.log_tail()}"
        )

    def peak_rss_mib(self) -> float | None:
        """The server's peak resident memory so far (the kernel's high-water mark, VmHWM)."""
        with contextlib.suppress(OSError, AssertionError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        return None

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.spec.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    async def stop(self, grace_s: float = 15.0) -> None:
        """SIGTERM the group, wait up to `grace_s`, SIGKILL whatever is left. The signals are
        sent synchronously, so even a cancelled stop leaves nothing running."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        signal_group(pgid, signal.SIGTERM)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), grace_s)
        finally:
            # Workers that outlived the leader, or the leader itself after the grace period.
            signal_group(pgid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            self.pids.forget(pgid)
        await self.proc.wait()
        for _ in range(100):  # the GPU is free only once every member has exited
            if not group_members(pgid):
                break
            await asyncio.sleep(0.05)
        log.info("stopped %s server %d (exit %s)", self.spec.name, pgid, self.proc.returncode)


@contextlib.asynccontextmanager
async def running(
    spec: ServerSpec, pids: PidDirectory, *, ready_timeout_s: float, stop_grace_s: float = 15.0
) -> AsyncIterator[ServerProcess]:
    """The server, started and ready; stopped when the block ends, however it ends."""
    server = ServerProcess(spec, pids)
    try:
        await server.start()
        await server.wait_ready(ready_timeout_s)
        yield server
    finally:
        await server.stop(stop_grace_s)
