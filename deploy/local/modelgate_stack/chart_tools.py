"""helm and kubeconform, the chart's tools: built with `go install` at pinned versions into
the cache dir (like MinIO), so a fresh clone needs nothing but Go.

    uv run python -m modelgate_stack.chart_tools     # build both now, with progress lines
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from modelgate_stack.config import HELM_VERSION, KUBECONFORM_VERSION, StackConfig
from modelgate_stack.errors import StackError
from modelgate_stack.prereqs import go_install
from modelgate_stack.progress import Job, Progress


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


def ensure_tool(tool: GoTool, config: StackConfig, progress: Progress) -> Path:
    """The tool's binary, built first if the cache lacks it (helm: minutes on two cores; the
    progress lines say it still works)."""
    binary = tool.binary(config)
    if not binary.exists():
        build = Job(
            tool.name,
            f"building {tool.version} with go install (first run only)",
            lambda: go_install(tool.package, tool.version, binary),
        )
        progress.parallel([build])
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
