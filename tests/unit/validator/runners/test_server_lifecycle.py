"""A model server's life as the runners manage it, with real child processes (no model needed):
stopped on failure, timeout and cancellation, process group and all, and reaped after its
validator was killed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from modelgate_validator.runners.pidfiles import PidDirectory, group_members, started_at
from modelgate_validator.runners.server import ServerFailed, ServerSpec, free_port, running

pytestmark = pytest.mark.slow


def alive(pid: int) -> bool:
    return started_at(pid) is not None and pid in group_members(os.getpgid(pid))


def gone(pid: int, within_s: float = 10) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def http_server_with_a_worker(port: int, worker_pid_file: Path) -> list[str]:
    """A server that, like vLLM, starts a worker of its own: a shell that backgrounds a sleep
    (same process group) and then becomes a Python HTTP server."""
    script = f"sleep 300 & echo $! > {worker_pid_file}; exec {sys.executable} -m http.server {port}"
    return ["/bin/sh", "-c", script]


def spec(tmp_path: Path, argv: list[str], port: int) -> ServerSpec:
    return ServerSpec(
        name="test",
        argv=argv,
        health_url=f"http://127.0.0.1:{port}/",
        log_path=tmp_path / "server.log",
    )


async def test_a_server_is_stopped_with_its_workers_when_the_benchmark_is_cancelled(
    tmp_path: Path,
) -> None:
    pids = PidDirectory(tmp_path / "servers")
    port = free_port()
    worker_file = tmp_path / "worker.pid"
    started = asyncio.Event()
    server_pid = 0

    async def benchmark() -> None:
        nonlocal server_pid
        argv = http_server_with_a_worker(port, worker_file)
        async with running(spec(tmp_path, argv, port), pids, ready_timeout_s=30) as server:
            server_pid = server.pid
            started.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(benchmark())
    await asyncio.wait_for(started.wait(), 30)
    worker = int(worker_file.read_text())
    assert alive(server_pid)
    assert alive(worker)
    assert os.getpgid(worker) == server_pid, "the worker is in the server's process group"
    assert [r.pid for r in pids.records()] == [server_pid]

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gone(server_pid)
    assert gone(worker)
    assert pids.records() == []


async def test_a_server_that_never_gets_ready_is_stopped_after_the_timeout(tmp_path: Path) -> None:
    pids = PidDirectory(tmp_path / "servers")
    argv = [sys.executable, "-c", "import time; print('loading', flush=True); time.sleep(600)"]
    with pytest.raises(ServerFailed, match="not ready after 1s") as failure:
        async with running(spec(tmp_path, argv, free_port()), pids, ready_timeout_s=1):
            raise AssertionError("never ready")
    assert "loading" in str(failure.value), "the reason carries the end of the server's log"
    assert pids.records() == []
    assert not _children_named("print('loading', flush=True)")


async def test_a_server_that_dies_at_start_fails_with_its_exit_code_and_log(tmp_path: Path) -> None:
    pids = PidDirectory(tmp_path / "servers")
    argv = [sys.executable, "-c", "import sys; print('CUDA out of memory'); sys.exit(3)"]
    with pytest.raises(ServerFailed, match="exited with code 3") as failure:
        async with running(spec(tmp_path, argv, free_port()), pids, ready_timeout_s=30):
            raise AssertionError("never ready")
    assert "CUDA out of memory" in str(failure.value)
    assert pids.records() == []


async def test_a_server_that_cannot_be_started_says_why(tmp_path: Path) -> None:
    pids = PidDirectory(tmp_path / "servers")
    argv = [str(tmp_path / "no-such-server"), "serve"]
    with pytest.raises(ServerFailed, match=r"could not start .*no-such-server"):
        async with running(spec(tmp_path, argv, free_port()), pids, ready_timeout_s=5):
            raise AssertionError("never started")
    assert pids.records() == []


async def test_a_failure_inside_the_benchmark_still_stops_the_server(tmp_path: Path) -> None:
    pids = PidDirectory(tmp_path / "servers")
    port = free_port()
    argv = [sys.executable, "-m", "http.server", str(port)]
    server_pid = 0

    async def benchmark_with_a_bug() -> None:
        nonlocal server_pid
        async with running(spec(tmp_path, argv, port), pids, ready_timeout_s=30) as server:
            server_pid = server.pid
            raise RuntimeError("client bug")

    with pytest.raises(RuntimeError, match="client bug"):
        await benchmark_with_a_bug()
    assert gone(server_pid)
    assert pids.records() == []


def test_a_validator_killed_with_sigkill_leaves_no_server_behind(tmp_path: Path) -> None:
    """The owner starts a server the way the runners do, then is killed -9: the kernel sends
    the server SIGTERM (PR_SET_PDEATHSIG), and the pid file left behind is cleared by the reaper."""
    servers = tmp_path / "servers"
    port = free_port()
    owner = textwrap.dedent(
        f"""
        import asyncio, os, signal, sys
        from pathlib import Path
        from modelgate_validator.runners.pidfiles import PidDirectory
        from modelgate_validator.runners.server import ServerProcess, ServerSpec

        async def main():
            spec = ServerSpec(
                name="test",
                argv=[sys.executable, "-m", "http.server", "{port}"],
                health_url="http://127.0.0.1:{port}/",
                log_path=Path({str(tmp_path / "server.log")!r}),
            )
            server = ServerProcess(spec, PidDirectory(Path({str(servers)!r})))
            await server.start()
            await server.wait_ready(30)
            print(server.pid, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", owner], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    server_pid = int(proc.stdout.split()[0])
    assert gone(server_pid), "the server died with its validator"
    pids = PidDirectory(servers)
    assert [r.pid for r in pids.records()] == [server_pid], "its pid file was left behind"
    assert pids.reap_orphans() == []
    assert pids.records() == []


def _write_record(
    servers: Path, pid: int, cmdline: list[str], owner_pid: int, owner_started_at: float
) -> None:
    servers.mkdir(parents=True, exist_ok=True)
    record = {
        "name": "test",
        "pid": pid,
        "pgid": pid,
        "cmdline": cmdline,
        "started_at": started_at(pid),
        "owner_pid": owner_pid,
        "owner_started_at": owner_started_at,
    }
    (servers / f"{pid}.json").write_text(json.dumps(record))


def _orphan_server(argv: list[str]) -> subprocess.Popen[bytes]:
    # Started without the parent-death signal, as if its validator's death had not stopped it.
    return subprocess.Popen(argv, start_new_session=True, stdin=subprocess.DEVNULL)


def _dead_owner() -> tuple[int, float]:
    done = subprocess.Popen(["true"])
    began = started_at(done.pid) or 1.0
    done.wait()
    return done.pid, began


def test_the_reaper_stops_servers_whose_validator_is_gone(tmp_path: Path) -> None:
    servers = tmp_path / "servers"
    argv = [sys.executable, "-c", "import time; time.sleep(600)  # reap me"]
    orphan = _orphan_server(argv)
    try:
        time.sleep(0.2)  # let exec happen, so /proc shows the final command line
        _write_record(servers, orphan.pid, argv, *_dead_owner())
        reaped = PidDirectory(servers).reap_orphans(grace_s=5)
        assert [r.pid for r in reaped] == [orphan.pid]
        assert orphan.wait(timeout=10) == -signal.SIGTERM
        assert PidDirectory(servers).records() == []
    finally:
        orphan.kill()


def test_the_reaper_leaves_a_live_validators_server_alone(tmp_path: Path) -> None:
    servers = tmp_path / "servers"
    argv = [sys.executable, "-c", "import time; time.sleep(600)  # not mine to reap"]
    server = _orphan_server(argv)
    try:
        time.sleep(0.2)
        me = os.getpid()
        _write_record(servers, server.pid, argv, me, started_at(me) or 0.0)
        assert PidDirectory(servers).reap_orphans() == []
        assert server.poll() is None
        assert len(PidDirectory(servers).records()) == 1
    finally:
        server.kill()
        server.wait()


def test_the_reaper_never_kills_a_process_that_only_reuses_the_pid(tmp_path: Path) -> None:
    servers = tmp_path / "servers"
    bystander = _orphan_server([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        time.sleep(0.2)
        recorded = [sys.executable, "-m", "llama_cpp.server", "--model", "/m.gguf"]
        _write_record(servers, bystander.pid, recorded, *_dead_owner())
        assert PidDirectory(servers).reap_orphans() == []
        assert bystander.poll() is None, "a different command line: not our server"
        assert PidDirectory(servers).records() == [], "the stale record is dropped"
    finally:
        bystander.kill()
        bystander.wait()


def _children_named(fragment: str) -> list[int]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        raw = " ".join(process.info["cmdline"] or ())
        if fragment in raw and "pytest" not in raw:
            found.append(process.pid)
    return found
