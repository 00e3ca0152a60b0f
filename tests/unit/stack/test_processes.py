"""The stack's process table stops exactly the processes it started."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from modelgate_stack.config import Port
from modelgate_stack.envfile import read_env, write_env
from modelgate_stack.errors import StackError
from modelgate_stack.ports import ensure_free
from modelgate_stack.processes import ProcessTable


def test_started_process_is_recorded_alive_and_stopped(tmp_path: Path) -> None:
    table = ProcessTable(tmp_path / "pids")
    marker = f"sleeper-{tmp_path.name}"
    pid = table.start(
        "sleeper",
        [sys.executable, "-c", "import time; time.sleep(60)", marker],
        log=tmp_path / "sleeper.log",
        marker=marker,
    )
    managed = table.alive("sleeper")
    assert managed is not None
    assert managed.pid == pid
    assert table.stop("sleeper") is True
    assert table.alive("sleeper") is None
    assert table.names() == []


def test_a_recorded_pid_running_something_else_is_not_ours(tmp_path: Path) -> None:
    table = ProcessTable(tmp_path / "pids")
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        table.record("kafka", stranger.pid, marker="/nowhere/server.properties")
        assert table.alive("kafka") is None
        assert table.stop("kafka") is False
        assert stranger.poll() is None, "down must never kill a process it did not start"
    finally:
        stranger.kill()
        stranger.wait()


def test_env_file_round_trips_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "stack.env"
    write_env(path, {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092", "S3_SECRET_KEY": "s=cret"})
    assert read_env(path) == {
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092",
        "S3_SECRET_KEY": "s=cret",
    }
    assert path.stat().st_mode & 0o777 == 0o600


def test_taken_port_names_the_variable_to_change() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        port = Port(env="MODELGATE_TEST_PORT", default=taken)
        with pytest.raises(StackError, match="MODELGATE_TEST_PORT"):
            ensure_free(port, "a test listener")
