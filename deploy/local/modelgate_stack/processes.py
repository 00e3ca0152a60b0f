"""Processes the stack starts, remembered by pid file so `down` stops exactly those.

A pid file records the pid and a marker that must appear in the process's command line;
a pid reused by an unrelated process after a reboot therefore never counts as ours.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from modelgate_stack.errors import StackError
from modelgate_stack.waiting import wait_until


@dataclass(frozen=True)
class Managed:
    name: str
    pid: int
    marker: str


class ProcessTable:
    def __init__(self, pid_dir: Path) -> None:
        self.pid_dir = pid_dir

    def _file(self, name: str) -> Path:
        return self.pid_dir / f"{name}.json"

    def get(self, name: str) -> Managed | None:
        path = self._file(name)
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return Managed(name, int(data["pid"]), str(data["marker"]))

    def record(self, name: str, pid: int, marker: str) -> None:
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        self._file(name).write_text(json.dumps({"pid": pid, "marker": marker}))

    def forget(self, name: str) -> None:
        self._file(name).unlink(missing_ok=True)

    def alive(self, name: str) -> Managed | None:
        managed = self.get(name)
        if managed is None:
            return None
        return managed if is_ours(managed) else None

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.pid_dir.glob("*.json")) if self.pid_dir.exists() else []

    def start(
        self,
        name: str,
        argv: list[str],
        *,
        log: Path,
        env: dict[str, str] | None = None,
        marker: str,
        user: str | None = None,
        cwd: Path | None = None,
    ) -> int:
        """Start argv in its own session (it outlives this command) and record its pid."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                user=user,
                start_new_session=True,
            )
        self.record(name, proc.pid, marker)
        _wait_exec_visible(proc, marker)
        return proc.pid

    def wait_ready(
        self, name: str, ready: Callable[[], bool], *, what: str, log: Path, timeout_s: float = 60
    ) -> None:
        """Wait until `ready()` holds; give up early, with the log's tail, if the process died."""
        wait_until(
            ready, what=what, timeout_s=timeout_s, log=log, alive=lambda: bool(self.alive(name))
        )

    def stop(self, name: str, *, sig: signal.Signals = signal.SIGTERM, grace_s: float = 20) -> bool:
        """Stop the recorded process (never anything else); True if one was running."""
        managed = self.alive(name)
        if managed is None:
            self.forget(name)
            return False
        os.kill(managed.pid, sig)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and is_ours(managed):
            time.sleep(0.1)
        if is_ours(managed):
            os.kill(managed.pid, signal.SIGKILL)
            _wait_gone(managed, 5)
        self.forget(name)
        return True


def _cmdline(pid: int) -> str:
    try:
        return " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return ""


def _wait_exec_visible(proc: subprocess.Popen[bytes], marker: str, timeout_s: float = 5) -> None:
    """Popen returns once the child's exec has begun, but Linux shows the new command line
    in /proc/<pid>/cmdline only when exec has finished (psutil's `cmdline()` is [] until
    then, seen under load): an `alive` check in that window would take our own process for
    a stranger's."""
    deadline = time.monotonic() + timeout_s
    while marker not in _cmdline(proc.pid) and proc.poll() is None:
        if time.monotonic() > deadline:
            return
        time.sleep(0.005)


def is_ours(managed: Managed) -> bool:
    """Whether the recorded pid runs, and runs our command (the marker is in its command
    line). Another user's process counts too: PostgreSQL runs as its own user."""
    try:
        process = psutil.Process(managed.pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            # Reap it if it is our child (it is when `up` and a crash happen in one run).
            with contextlib.suppress(ChildProcessError):
                os.waitpid(managed.pid, os.WNOHANG)
            return False
        return managed.marker in " ".join(process.cmdline())
    except psutil.Error:  # gone (a zombie included), or its command line is not ours to read
        return False


def _wait_gone(managed: Managed, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not is_ours(managed):
            return
        time.sleep(0.1)
    raise StackError(f"{managed.name} (pid {managed.pid}) did not stop")
