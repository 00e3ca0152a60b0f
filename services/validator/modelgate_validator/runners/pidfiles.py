"""Pid files of the model servers this host's validators started, so none outlives its validator.

Each server runs in a session (and process group) of its own and gets a JSON record under
`<work dir>/servers/`: its pid, process group, exact command line and start time, and the same
identity of the validator that owns it. A validator killed with SIGKILL cannot stop its server;
the next one to start on the host reaps every server whose owner is gone, after checking that
the pid still names that same process (command line and start time), since pids are reused.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

log = logging.getLogger(__name__)


def started_at(pid: int) -> float | None:
    """When the process started (seconds since the epoch, from the kernel's start time in
    clock ticks since boot): with the pid, a process's identity. None when it is gone."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def cmdline(pid: int) -> list[str] | None:
    try:
        return psutil.Process(pid).cmdline() or None
    except psutil.Error:
        return None


def group_members(pgid: int) -> list[int]:
    """Live processes in process group `pgid` (a server's workers outlive it if not killed)."""
    members = []
    for process in psutil.process_iter(["status"]):
        if process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        with contextlib.suppress(OSError):  # exited while we looked
            if os.getpgid(process.pid) == pgid:
                members.append(process.pid)
    return members


def signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@dataclass(frozen=True)
class ServerRecord:
    name: str
    pid: int
    pgid: int
    cmdline: list[str]
    started_at: float
    owner_pid: int
    owner_started_at: float

    def owner_alive(self) -> bool:
        return started_at(self.owner_pid) == self.owner_started_at

    def is_same_process(self) -> bool:
        return started_at(self.pid) == self.started_at and cmdline(self.pid) == self.cmdline


class PidDirectory:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, pid: int) -> Path:
        return self.root / f"{pid}.json"

    def record(self, name: str, pid: int, argv: list[str]) -> ServerRecord:
        """Write the record of a server just started; its own cmdline is read back from /proc so
        the reaper compares like with like (argv as the kernel holds it)."""
        me = os.getpid()
        record = ServerRecord(
            name=name,
            pid=pid,
            pgid=pid,  # started with start_new_session: it leads its own group and session
            cmdline=cmdline(pid) or argv,
            started_at=started_at(pid) or 0.0,
            owner_pid=me,
            owner_started_at=started_at(me) or 0.0,
        )
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = self._path(pid).with_suffix(".tmp")
        partial.write_text(json.dumps(asdict(record)))
        partial.chmod(0o600)
        partial.replace(self._path(pid))  # atomic: a reaper never reads half a record
        return record

    def forget(self, pid: int) -> None:
        self._path(pid).unlink(missing_ok=True)

    def records(self) -> list[ServerRecord]:
        found = []
        for path in sorted(self.root.glob("*.json")):
            try:
                found.append(ServerRecord(**json.loads(path.read_text())))
            except (OSError, ValueError, TypeError):
                log.warning("ignoring unreadable server pid file %s", path)
        return found

    def reap_orphans(self, *, grace_s: float = 10.0) -> list[ServerRecord]:
        """Stop every recorded server whose validator is gone; returns those it stopped."""
        reaped = []
        for record in self.records():
            if record.owner_alive():
                continue  # another live validator's server
            if record.is_same_process():
                log.warning(
                    "stopping %s server %d left by validator %d",
                    record.name,
                    record.pid,
                    record.owner_pid,
                )
                stop_group(record.pgid, grace_s=grace_s)
                reaped.append(record)
            elif started_at(record.pid) is None and group_members(record.pgid):
                # The leader is gone but its workers are not. The kernel does not reuse a pid
                # while a process group still uses it, so these are the server's own.
                stop_group(record.pgid, grace_s=0)
                reaped.append(record)
            # Otherwise the pid now names another process: ours is long gone, leave it be.
            self.forget(record.pid)
        return reaped


def stop_group(pgid: int, *, grace_s: float) -> None:
    """SIGTERM the group, give it `grace_s` to exit, then SIGKILL what is left (blocking)."""
    signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    signal_group(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
