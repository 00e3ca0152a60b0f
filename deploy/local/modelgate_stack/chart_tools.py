"""helm and kubeconform, the chart's tools: built with `go install` at pinned versions into
the cache dir (like MinIO), so a fresh clone needs nothing but Go.

    uv run python -m modelgate_stack.chart_tools     # build both now, with progress lines
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from modelgate_stack.config import HELM_VERSION, KUBECONFORM_VERSION, StackConfig
from modelgate_stack.errors import StackError
from modelgate_stack.prereqs import require_go
from modelgate_stack.progress import Progress


@dataclass(frozen=True, kw_only=True)
class GoTool:
    name: str
    package: str
    """What `go install` builds (module path plus the command's folder)."""
    version: str

    def binary(self, config: StackConfig) -> Path:
        return config.cache_dir / f"{self.name}-{self.version}" / self.name


HELM = GoTool(name="helm", package="helm.sh/helm/v4/cmd/helm", version=HELM_VERSION)
KUBECONFORM = GoTool(
    name="kubeconform",
    package="github.com/yannh/kubeconform/cmd/kubeconform",
    version=KUBECONFORM_VERSION,
)
TOOLS = (HELM, KUBECONFORM)
HEARTBEAT_S = 60.0


def ensure_tool(tool: GoTool, config: StackConfig, progress: Progress) -> Path:
    """The tool's binary, built first if the cache lacks it (helm: minutes on two cores)."""
    binary = tool.binary(config)
    if binary.exists():
        return binary
    require_go()
    binary.parent.mkdir(parents=True, exist_ok=True)
    with (
        progress.step(
            f"building {tool.name} {tool.version} with go install (first run only)",
            f"{tool.name} {tool.version} built",
        ),
        tempfile.TemporaryDirectory(dir=binary.parent) as tmp,
    ):
        env = {**os.environ, "GOBIN": tmp, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
        env.pop("GOWORK", None)
        with tempfile.TemporaryFile(mode="w+") as log:
            build = subprocess.Popen(
                ["go", "install", "-trimpath", "-ldflags=-s -w", f"{tool.package}@{tool.version}"],
                env=env,
                cwd=tmp,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
            started = time.monotonic()
            while True:
                try:
                    returncode = build.wait(timeout=HEARTBEAT_S)
                    break
                except subprocess.TimeoutExpired:
                    # Minutes of silence read as a hang: say it still works.
                    waited = time.monotonic() - started
                    progress.line(f"still building {tool.name} ({waited:.0f}s)")
            if returncode != 0:
                log.seek(0)
                raise StackError(f"building {tool.name} {tool.version} failed: {log.read()[-800:]}")
        shutil.move(str(Path(tmp) / tool.name), binary)
    return binary


def main() -> None:
    config = StackConfig()
    progress = Progress()
    try:
        for tool in TOOLS:
            progress.line(f"{tool.name}: {ensure_tool(tool, config, progress)}")
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc


if __name__ == "__main__":
    main()
