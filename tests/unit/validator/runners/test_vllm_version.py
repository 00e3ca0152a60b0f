"""The vLLM version recorded is the one behind the executable the runner starts, not whatever
the validator's own virtualenv holds (it holds no vLLM)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from modelgate_validator.runners.vllm_version import vllm_version


def _executable(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    vllm_version.cache_clear()


def test_the_python_of_the_launcher_script_is_asked(tmp_path: Path) -> None:
    # A launcher like pip writes one, for an installation whose Python finds vllm 0.11.2:
    # here a site directory with just vllm's metadata, on that interpreter's path.
    site = tmp_path / "site"
    (site / "vllm-0.11.2.dist-info").mkdir(parents=True)
    (site / "vllm-0.11.2.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: vllm\nVersion: 0.11.2\n"
    )
    (tmp_path / "bin").mkdir()
    python = _executable(
        tmp_path / "bin" / "python3",
        f'#!/bin/sh\nPYTHONPATH={site} exec {sys.executable} "$@"\n',
    )
    launcher = _executable(tmp_path / "bin" / "vllm", f"#!{python}\nraise SystemExit(1)\n")
    assert vllm_version(launcher) == "vllm 0.11.2"


def test_an_executable_without_a_python_launcher_is_asked_for_its_version(
    tmp_path: Path,
) -> None:
    # `vllm --version` prints the version on its last line (after any log lines).
    exe = _executable(
        tmp_path / "vllm",
        '#!/bin/sh\n[ "$1" = --version ] || exit 2\necho "INFO loading"\necho 0.11.0\n',
    )
    assert vllm_version(exe) == "vllm 0.11.0"


def test_a_missing_or_silent_executable_is_an_unknown_version(tmp_path: Path) -> None:
    assert vllm_version(str(tmp_path / "absent")) == "vllm (version unknown)"
    silent = _executable(tmp_path / "vllm", "#!/bin/sh\nexit 1\n")
    assert vllm_version(silent) == "vllm (version unknown)"


def test_the_validators_own_environment_is_not_what_is_reported(tmp_path: Path) -> None:
    # The executable's installation says 0.9.9; whatever this process could import is ignored.
    exe = _executable(tmp_path / "vllm", "#!/bin/sh\necho 0.9.9\n")
    assert vllm_version(exe) == "vllm 0.9.9"
