"""Upstream clients in virtualenvs of their own (cached), run as separate programs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

CACHE = Path.home() / ".cache" / "modelgate" / "clients"


def client_python(package: str, version: str, extras: tuple[str, ...] = ()) -> Path:
    """The Python of a virtualenv with `package==version` (and `extras`) installed, built once
    and then reused."""
    home = CACHE / "-".join([f"{package}-{version}", *extras])
    python = home / "bin" / "python"
    marker = home / ".complete"
    if marker.exists():
        return python
    shutil.rmtree(home, ignore_errors=True)
    uv = shutil.which("uv")
    if uv:
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(home)], check=True)
        subprocess.run(
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                str(python),
                f"{package}=={version}",
                *extras,
            ],
            check=True,
        )
    else:
        subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", f"{package}=={version}", *extras],
            check=True,
        )
    marker.write_text(version)
    return python
