"""SIGTERM to a pytest run tears its fixtures down (so no harness process outlives it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CONFTEST = """
import subprocess
import pytest

@pytest.fixture
def child():
    process = subprocess.Popen(["sleep", "300"])
    yield process
    process.kill()
    process.wait()
    open("torn-down", "w").write(str(process.pid))
"""
TEST = """
import time

def test_waits(child):
    open("started", "w").write(str(child.pid))
    time.sleep(120)
"""


@pytest.mark.parametrize("plugin", [True, False], ids=["with-plugin", "without"])
def test_sigterm_runs_the_fixtures_teardown(tmp_path: Path, plugin: bool) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_inner.py").write_text(TEST)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_inner.py"]
    if plugin:
        command[3:3] = ["-p", "tests.stop_on_sigterm"]
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    run = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL)
    started = tmp_path / "started"
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert started.exists(), "the inner test never started"
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=30)
    finally:
        run.kill()
        child = int(started.read_text()) if started.exists() else None
    torn_down = (tmp_path / "torn-down").exists()
    if child is not None and not torn_down:
        os.kill(child, signal.SIGKILL)
    # Without the plugin the child outlives the run: what the plugin is for.
    assert torn_down is plugin
