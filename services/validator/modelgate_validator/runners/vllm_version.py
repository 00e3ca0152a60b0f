"""Which vLLM a benchmark ran on, asked of the `vllm` executable the runner starts.

The validator's own virtualenv never holds vLLM (the GPU image installs the validator beside
vLLM's environment, and only starts `vllm serve` as a child), so looking the package up in this
process found nothing and every result said just `vllm`. The installation behind the
executable is what serves the model, so that is what is asked: first the Python interpreter
of its launcher script (a metadata lookup, ~0.1 s), then `vllm --version` (imports vLLM's CLI,
seconds), and only if both fail is the version unknown.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from pathlib import Path

TIMEOUT_S = 60.0
_VERSION = re.compile(r"\b(\d+\.\d+(?:\.\d+)?(?:[.+-][0-9A-Za-z.+-]+)?)\b")
_LOOKUP = "import importlib.metadata as m; print(m.version('vllm'))"


def _interpreter(script: Path) -> str | None:
    """The Python of a console-script launcher (`#!/opt/venv/bin/python3`), if it has one."""
    try:
        with script.open("rb") as f:
            first = f.readline(512).decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    parts = first[2:].split()
    if not parts:
        return None
    if Path(parts[0]).name == "env" and len(parts) > 1:
        parts = parts[1:]  # `#!/usr/bin/env python3`
    return parts[0] if "python" in Path(parts[0]).name else None


def _version_in(output: str) -> str | None:
    for line in reversed(output.strip().splitlines()):
        match = _VERSION.search(line)
        if match:
            return match.group(1)
    return None


def _run(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(  # noqa: S603 (the configured vllm executable, no shell)
            argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return _version_in(done.stdout) if done.returncode == 0 else None


@functools.cache
def vllm_version(executable: str) -> str:
    """`vllm <version>` of the installation behind `executable`, or `vllm (version unknown)`.
    Cached per executable: it does not change while the validator runs."""
    found = shutil.which(executable)
    if found is None:
        return "vllm (version unknown)"
    path = Path(found).resolve()
    python = _interpreter(path)
    version = _run([python, "-c", _LOOKUP]) if python else None
    if version is None:
        version = _run([str(path), "--version"])
    return f"vllm {version}" if version else "vllm (version unknown)"
