"""What the one Dockerfile builds: its stages and the services its SERVICE argument takes
(read from the file itself, so a test fails when compose or the chart names something else)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def dockerfile_stages() -> set[str]:
    return set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)\s*$", DOCKERFILE.read_text(), re.M))


def dockerfile_services() -> set[str]:
    """The SERVICE values the build stage accepts (its `case "$SERVICE" in a|b|c)` line)."""
    match = re.search(r'case "\$SERVICE" in ([a-z|]+)\)', DOCKERFILE.read_text())
    assert match, "the Dockerfile no longer checks its SERVICE argument"
    return set(match.group(1).split("|"))
