"""Jaeger v2, the local trace backend: OTLP receiver, in-memory storage, query API and UI.

Built from Jaeger's Go module like MinIO, but with `go build` in a throwaway module (see
resources/jaeger-build.go.mod) because `go install` refuses a module with replace
directives. Jaeger's own go.sum is used as ours, so every dependency is the one Jaeger's
release pinned and verified. The binary is cached under the cache dir, keyed by version.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

import httpx

from modelgate_stack.config import JAEGER_MODULE_VERSION, StackConfig
from modelgate_stack.errors import StackError
from modelgate_stack.ports import ensure_free
from modelgate_stack.prereqs import require_go
from modelgate_stack.processes import ProcessTable

MODULE = "github.com/jaegertracing/jaeger"
MAX_TRACES = 50_000


def _resource(name: str) -> str:
    return resources.files("modelgate_stack.resources").joinpath(name).read_text()


class Jaeger:
    name = "jaeger"

    def __init__(self, config: StackConfig, procs: ProcessTable) -> None:
        self.config = config
        self.procs = procs
        self.binary = config.cache_dir / f"jaeger-{JAEGER_MODULE_VERSION}" / "jaeger"
        self.home = config.state_dir / "jaeger"
        self.log = config.log_dir / "jaeger.log"

    @property
    def otlp_endpoint(self) -> str:
        """Where services send OTLP/HTTP (`OTEL_EXPORTER_OTLP_ENDPOINT`)."""
        return f"http://127.0.0.1:{self.config.ports.jaeger_otlp_http.value}"

    @property
    def query_url(self) -> str:
        """Jaeger's query API and UI (`TRACES_QUERY_URL`): /api/traces/<trace id>."""
        return f"http://127.0.0.1:{self.config.ports.jaeger_query.value}"

    def pending(self) -> str | None:
        return None if self.binary.exists() else f"build Jaeger {JAEGER_MODULE_VERSION} with go"

    def prepare(self) -> None:
        if self.binary.exists():
            return
        require_go()
        self.binary.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.binary.parent) as tmp:
            build = Path(tmp)
            env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod", "GOWORK": "off"}
            (build / "go.mod").write_text(
                _resource("jaeger-build.go.mod").replace("@VERSION@", JAEGER_MODULE_VERSION)
            )
            download = self._go(
                ["go", "mod", "download", "-json", f"{MODULE}@{JAEGER_MODULE_VERSION}"], build, env
            )
            source = Path(json.loads(download)["Dir"])
            shutil.copyfile(source / "go.sum", build / "go.sum")
            (build / "go.sum").chmod(0o644)
            out = build / "jaeger"
            self._go(
                [
                    "go",
                    "build",
                    "-trimpath",
                    "-ldflags=-s -w",
                    "-o",
                    str(out),
                    f"{MODULE}/cmd/jaeger",
                ],
                build,
                env,
            )
            shutil.move(str(out), self.binary)

    @staticmethod
    def _go(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
        result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(
                f"building Jaeger {JAEGER_MODULE_VERSION} failed at `{' '.join(argv[:3])}`: "
                f"{result.stderr[-800:]}"
            )
        return result.stdout

    def _write_config(self) -> Path:
        ports = self.config.ports
        text = _resource("jaeger.yaml.tmpl")
        for marker, value in {
            "@HEALTH@": ports.jaeger_health.value,
            "@QUERY@": ports.jaeger_query.value,
            "@QUERY_GRPC@": ports.jaeger_query_grpc.value,
            "@OTLP_GRPC@": ports.jaeger_otlp_grpc.value,
            "@OTLP_HTTP@": ports.jaeger_otlp_http.value,
            "@MAX_TRACES@": MAX_TRACES,
        }.items():
            text = text.replace(marker, str(value))
        self.home.mkdir(parents=True, exist_ok=True)
        path = self.home / "jaeger.yaml"
        path.write_text(text)
        return path

    def _healthy(self) -> bool:
        url = f"http://127.0.0.1:{self.config.ports.jaeger_health.value}/status"
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def ensure_running(self) -> bool:
        if self.procs.alive(self.name):
            self._wait_ready()
            return False
        ports = self.config.ports
        for port in (
            ports.jaeger_otlp_http,
            ports.jaeger_otlp_grpc,
            ports.jaeger_query,
            ports.jaeger_query_grpc,
            ports.jaeger_health,
        ):
            ensure_free(port, "Jaeger")
        config = self._write_config()
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self.home)}
        argv = [str(self.binary), "--config", str(config)]
        self.procs.start(self.name, argv, log=self.log, env=env, marker=str(config))
        self._wait_ready()
        return True

    def _wait_ready(self) -> None:
        self.procs.wait_ready(self.name, self._healthy, what="Jaeger", log=self.log)

    def stop(self) -> bool:
        return self.procs.stop(self.name)

    def where(self) -> str:
        return f"{self.query_url} (OTLP {self.otlp_endpoint})"
