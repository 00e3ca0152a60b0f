"""The chart, rendered with each value set of deploy/helm/modelgate/ci/, once per session.

helm and kubeconform are built with `go install` and the schemas fetched on first use
(modelgate_stack.chart_tools, modelgate_stack.kube_schemas), cached by version outside the
checkout. A first run takes minutes: its progress lines go to the terminal past pytest's
capture, so it does not read as a hang.
"""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelgate_stack.chart_tools import HELM, KUBECONFORM, ensure_tool
from modelgate_stack.config import StackConfig
from modelgate_stack.kube_schemas import SchemaSet, ensure_schemas
from modelgate_stack.progress import Progress

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "deploy" / "helm" / "modelgate"
VALUE_SETS = ("default", "gpu", "openshift", "minimal")
RELEASE = "mg"

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Tools:
    helm: Path
    kubeconform: Path
    schemas: SchemaSet


@dataclass(frozen=True)
class Rendered:
    value_set: str
    path: Path
    objects: list[Manifest]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [o for o in self.objects if o["kind"] == kind]

    def named(self, kind: str, name: str) -> Manifest:
        (found,) = [o for o in self.of_kind(kind) if o["metadata"]["name"] == name]
        return found


@pytest.fixture(scope="session")
def tools(request: pytest.FixtureRequest) -> Tools:
    config = StackConfig(root=ROOT)
    progress = Progress()
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        return Tools(
            helm=ensure_tool(HELM, config, progress),
            kubeconform=ensure_tool(KUBECONFORM, config, progress),
            schemas=ensure_schemas(config, progress),
        )


def helm_template(tools: Tools, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tools.helm), "template", RELEASE, str(CHART), "--namespace", "modelgate", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="session")
def rendered(tools: Tools, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    out = tmp_path_factory.mktemp("rendered")
    result: dict[str, Rendered] = {}
    for value_set in VALUE_SETS:
        done = helm_template(tools, "-f", str(CHART / "ci" / f"{value_set}-values.yaml"))
        assert done.returncode == 0, f"{value_set}: {done.stderr}"
        path = out / f"{value_set}.yaml"
        path.write_text(done.stdout)
        objects = [d for d in yaml.safe_load_all(done.stdout) if d]
        result[value_set] = Rendered(value_set, path, objects)
    return result


def kubeconform(tools: Tools, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Strict validation: no unknown field, no duplicate key, no kind without a schema."""
    argv = [
        str(tools.kubeconform),
        "-strict",
        "-summary",
        "-output",
        "json",
        "-kubernetes-version",
        tools.schemas.kubernetes_version,
    ]
    for location in tools.schemas.locations:
        argv += ["-schema-location", location]
    return subprocess.run(
        [*argv, *extra, str(path)], capture_output=True, text=True, check=False, timeout=120
    )
