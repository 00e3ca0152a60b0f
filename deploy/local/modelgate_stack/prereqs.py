"""Prerequisites: what the stack installs itself, and what it can only ask a person for."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from modelgate_stack.errors import StackError


def _version_of(argv: list[str], pattern: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(pattern, out.stdout + out.stderr)
    return tuple(int(p) for p in match.groups()) if match else None


def require_java() -> None:
    version = _version_of(["java", "-version"], r'version "(\d+)')
    if version is None or version < (17,):
        raise StackError(
            "Java 17 or later is needed to run Kafka and was not found on PATH "
            "(Debian: apt-get install openjdk-17-jre-headless)"
        )


def require_maven() -> None:
    if shutil.which("mvn") is None:
        raise StackError(
            "Maven is needed to fetch the Kafka jars and was not found "
            "(Debian: apt-get install maven)"
        )


def require_go() -> None:
    version = _version_of(["go", "version"], r"go(\d+)\.(\d+)")
    if version is None or version < (1, 24):
        raise StackError(
            "Go 1.24 or later is needed to build MinIO and was not found on PATH "
            "(https://go.dev/dl/)"
        )


def go_install(package: str, version: str, binary: Path) -> None:
    """`go install package@version` (static, stripped) into `binary`, whose name is the
    command's: built in a scratch dir beside it, so a failed build leaves nothing there."""
    require_go()
    binary.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=binary.parent) as tmp:
        env = {**os.environ, "GOBIN": tmp, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
        env.pop("GOWORK", None)
        result = subprocess.run(
            ["go", "install", "-trimpath", "-ldflags=-s -w", f"{package}@{version}"],
            env=env,
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(
                f"building {binary.name} {version} failed: "
                f"{(result.stdout + result.stderr).strip()[-800:]}"
            )
        shutil.move(str(Path(tmp) / binary.name), binary)


def postgres_bindir() -> Path | None:
    """The newest PostgreSQL server installed from Debian's packages, if any."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


def ensure_postgres() -> Path:
    """Install PostgreSQL from Debian's packages when missing, never creating a system cluster."""
    bindir = postgres_bindir()
    if bindir is not None:
        return bindir
    if shutil.which("apt-get") is None:
        raise StackError("PostgreSQL server binaries not found and apt-get is not available")
    sudo: list[str] = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if sudo and shutil.which("sudo") is None:
        raise StackError("PostgreSQL is not installed; run as root or install postgresql yourself")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = [
        [*sudo, "apt-get", "update", "-q"],
        [*sudo, "apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql-common"],
        # Like docker-library/postgres: no auto-created cluster on :5432. Ours owns its own.
        [
            *sudo,
            "sed",
            "-ri",
            r"s/#?(create_main_cluster) .*$/\1 = false/",
            "/etc/postgresql-common/createcluster.conf",
        ],
        [*sudo, "apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"],
    ]
    for step in steps:
        result = subprocess.run(step, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(
                f"installing PostgreSQL failed at `{' '.join(step)}`: "
                f"{result.stderr.strip()[-500:]}"
            )
    bindir = postgres_bindir()
    if bindir is None:
        raise StackError(
            "PostgreSQL was installed but no initdb was found under /usr/lib/postgresql"
        )
    return bindir


CHROMIUM_NAMES = ("chromium", "chromium-browser")


def ensure_chromium() -> Path:
    """Debian's Chromium for the browser tests (Playwright drives it through
    `executable_path`: its own browser download needs a CDN the tests must not depend on)."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    if shutil.which("apt-get") is None:
        raise StackError("Chromium not found and apt-get is not available")
    sudo: list[str] = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if sudo and shutil.which("sudo") is None:
        raise StackError("Chromium is not installed; run as root or install chromium yourself")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (
        [*sudo, "apt-get", "update", "-q"],
        [*sudo, "apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"],
    ):
        result = subprocess.run(step, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(
                f"installing Chromium failed at `{' '.join(step)}`: {result.stderr.strip()[-500:]}"
            )
    found = shutil.which("chromium")
    if found is None:
        raise StackError("Chromium was installed but `chromium` is not on PATH")
    return Path(found)
