"""The CLI's documented exit codes: what scripts branch on, without any service running."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

from modelgate.cli.exit_codes import Exit, exit_code
from modelgate.errors import (
    ChecksumMismatch,
    Conflict,
    Forbidden,
    NoPreviousProduction,
    NotFound,
    Unauthorized,
    for_status,
)

DOCS = Path(__file__).parents[3] / "docs" / "cli.md"


def _run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {"MODELGATE_CONFIG": str(tmp_path / "config.toml"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "modelgate", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_documented_table_lists_every_code() -> None:
    documented = {int(n) for n in re.findall(r"^\| (\d+) \|", DOCS.read_text(), flags=re.M)}
    assert documented == {int(code) for code in Exit}


def test_each_error_has_its_code() -> None:
    assert exit_code(Unauthorized(401, "x")) == exit_code(Forbidden(403, "x")) == Exit.REFUSED
    assert exit_code(NotFound(404, "x")) == Exit.NOT_FOUND
    assert exit_code(Conflict(409, "x")) == exit_code(NoPreviousProduction("x")) == Exit.CONFLICT
    assert exit_code(for_status(422, "x")) == exit_code(for_status(503, "x")) == Exit.API
    assert exit_code(ChecksumMismatch("f", "a", "b")) == Exit.VERIFICATION


def test_an_unknown_profile_exits_3(tmp_path: Path) -> None:
    done = _run("--profile", "nowhere", "models", "ls", tmp_path=tmp_path)
    assert done.returncode == Exit.CONFIG, done.stderr
    assert "no profile 'nowhere'" in done.stderr


def test_wrong_usage_exits_2(tmp_path: Path) -> None:
    assert _run("promote", "only-a-name", tmp_path=tmp_path).returncode == Exit.USAGE


def test_an_unreachable_service_exits_1_with_the_reason(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    done = _run("--url", f"http://127.0.0.1:{port}", "models", "ls", tmp_path=tmp_path)
    assert done.returncode == Exit.ERROR
    assert "error" in done.stderr.lower()
    assert "Traceback" not in done.stderr


def test_help_shows_examples(tmp_path: Path) -> None:
    done = _run("rollback", "--help", tmp_path=tmp_path)
    assert done.returncode == 0
    assert "Examples:" in done.stdout
