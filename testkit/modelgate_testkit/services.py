"""Modelgate services as real, separate processes, as the test harness starts them.

Each runs from this checkout with the run's namespace (own topics, bucket, database), on a
free port, so tests can kill -9 it, restart it and watch what it did. Several replicas of one
service run side by side as a cluster would run them: same settings and credentials, each on
a port and with a log of its own (`replica`), in the same consumer groups.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import httpx

PORT_VARIABLE = {
    "ingest": "MODELGATE_INGEST_PORT",
    "validator": "MODELGATE_VALIDATOR_PORT",
    "registry": "MODELGATE_REGISTRY_PORT",
    "audit": "MODELGATE_AUDIT_PORT",
}


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port nothing listens on now, never the same one twice in this process: the kernel
    can give a just-released port out again, and two services handed the same one have the
    second fail to bind while the first answers its health checks."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


@dataclass
class ServiceProcess:
    name: str
    env: dict[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    probe: str = "/healthz"
    """What answers 200 once the service is up (`/readyz`: once its dependencies answer too)."""
    replica: int = 1
    """Which replica of `name` this is (1, 2, ...): names its log, never its settings."""
    killed_at: dict[int, float] = field(default_factory=dict)
    """pid -> when `kill` signalled that process (epoch seconds, taken just before): it did
    everything it did before this moment, or in the few milliseconds after."""

    @property
    def instance(self) -> str:
        """`registry` for the first replica, `registry-2` for the second, ..."""
        return self.name if self.replica == 1 else f"{self.name}-{self.replica}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.log_dir / f"{self.instance}.log"

    def start(self, *, wait: bool = True, timeout_s: float = 60) -> Self:
        env = {**os.environ, **self.env, PORT_VARIABLE[self.name]: str(self.port)}
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", f"modelgate_{self.name}"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        if wait:
            try:
                self.wait_healthy(timeout_s)
            except BaseException:
                self.kill()  # a service that never came up must not outlive the test
                raise
        return self

    def wait_healthy(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.instance} exited with {self.proc.returncode}:\n{self.tail()}"
                )
            try:
                if httpx.get(f"{self.url}{self.probe}", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.instance} not healthy after {timeout_s}s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout_s: float = 20) -> int:
        """SIGTERM and wait: the exit code of a clean stop is 0."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout_s)

    def kill(self) -> None:
        """kill -9: no chance to flush, commit or say goodbye."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.killed_at[self.proc.pid] = time.time()
            self.proc.kill()
            self.proc.wait(timeout=10)
