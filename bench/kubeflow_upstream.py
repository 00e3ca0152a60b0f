"""The upstream Kubeflow Model Registry server (Go) as a benchmark peer: built once from its
module into a cache outside the checkout, run against its own PostgreSQL 16 (the `pgserver`
wheel's binaries; its migrations need 16). Never used in CI.

The module zip lacks the generated OpenAPI packages (nested modules), so the build
regenerates them as upstream's Makefile does (`gen/openapi`) and adds the few hand-written
files upstream keeps beside them. Recipe: ../shared/reference/kubeflow-upstream-server.md.

    uv run python -m bench.kubeflow_upstream        # build (or reuse) and print the binary
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from modelgate_testkit.clients import client_python

VERSION = "v0.3.14"  # the newest tag the Go module proxy serves (the module is now kubeflow/hub)
GENERATOR = "7.17.0"  # openapi-generator-cli, as upstream pins it
PGSERVER = "0.1.4"
CACHE = Path.home() / ".cache" / "modelgate" / "kubeflow-upstream"
GENERATOR_OPTIONS = (
    "isGoSubmodule=true,enumClassPrefix=true,useOneOfDiscriminatorLookup=true,"
    "generateUnmarshalJSON=false"
)

# Hand-written files upstream keeps beside the generated packages (the generator makes no
# `New…WithDefaults` for oneOf unions, no sort helper, and this generator version names the
# agent artifact union differently): written from what the server's code calls.
_REGISTRY_FACTORIES = """package openapi

// Constructors of the oneOf unions, which the generator leaves out.

func NewArtifactWithDefaults() *Artifact { return &Artifact{} }

func NewArtifactCreateWithDefaults() *ArtifactCreate { return &ArtifactCreate{} }

func NewArtifactUpdateWithDefaults() *ArtifactUpdate { return &ArtifactUpdate{} }
"""
_CATALOG_SORTABLE = """package openapi

// Sortable is what the catalog's in-memory pager orders and resumes by.
type Sortable interface {
	SortValue(field OrderByField) string
}

func (s CatalogSource) SortValue(field OrderByField) string {
	if field == ORDERBYFIELD_NAME {
		return s.Name
	}
	return s.Id
}

func (r ModelPreviewResult) SortValue(OrderByField) string { return r.Name }

func (r AssetPreviewResult) SortValue(OrderByField) string { return r.Name }

// AgentArtifact is the generator's AgentTemplateArtifact union under upstream's name.
type AgentArtifact = AgentTemplateArtifact
"""


def _run(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    print(f"  $ {' '.join(args)[:160]}", file=sys.stderr, flush=True)
    subprocess.run(args, cwd=cwd, env={**os.environ, **(env or {})}, check=True)


def _module_dir() -> Path:
    answer = subprocess.run(
        ["go", "mod", "download", "-json", f"github.com/kubeflow/model-registry@{VERSION}"],
        capture_output=True,
        check=True,
        text=True,
    )
    return Path(json.loads(answer.stdout)["Dir"])


def _goimports() -> Path:
    tool = CACHE / "bin" / "goimports"
    if not tool.exists():
        _run(
            ["go", "install", "golang.org/x/tools/cmd/goimports@v0.40.0"],
            env={"GOBIN": str(CACHE / "bin")},
        )
    return tool


def _generate(src: Path, spec: str, out: str, module: str) -> None:
    python = client_python("openapi-generator-cli", GENERATOR)
    target = src / out
    shutil.rmtree(target, ignore_errors=True)
    _run(
        [
            str(python.parent / "openapi-generator-cli"),
            "generate",
            "-i",
            spec,
            "-g",
            "go",
            "-o",
            out,
            "--package-name",
            "openapi",
            "--additional-properties=" + GENERATOR_OPTIONS,
        ],
        cwd=src,
    )
    for extra in ("test", "docs", "api", "git_push.sh", ".travis.yml", "README.md"):
        path = target / extra
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    (target / "go.mod").write_text(f"module {module}\n\ngo 1.23\n")
    (target / "go.sum").unlink(missing_ok=True)
    _run([str(_goimports()), "-w", out], cwd=src)


def build() -> Path:
    """The server binary, built on first use (several minutes on a small machine)."""
    binary = CACHE / f"model-registry-{VERSION}"
    if binary.exists():
        return binary
    CACHE.mkdir(parents=True, exist_ok=True)
    src = CACHE / f"src-{VERSION}"
    if not (src / ".copied").exists():
        shutil.rmtree(src, ignore_errors=True)
        shutil.copytree(_module_dir(), src)
        _run(["chmod", "-R", "u+w", str(src)])
        (src / ".copied").touch()
    if not (src / ".generated").exists():
        _generate(
            src,
            "api/openapi/model-registry.yaml",
            "pkg/openapi",
            "github.com/kubeflow/hub/pkg/openapi",
        )
        _generate(
            src,
            "api/openapi/catalog.yaml",
            "catalog/pkg/openapi",
            "github.com/kubeflow/hub/catalog/pkg/openapi",
        )
        (src / ".generated").touch()
    _hand_written(src)
    _run(["go", "build", "-o", str(binary), "."], cwd=src)
    return binary


def _hand_written(src: Path) -> None:
    (src / "pkg/openapi/factories.go").write_text(_REGISTRY_FACTORIES)
    (src / "catalog/pkg/openapi/sortable.go").write_text(_CATALOG_SORTABLE)


def _as_root() -> bool:
    return os.geteuid() == 0


def _pg_bin() -> Path:
    """PostgreSQL 16's bin/ from the pgserver wheel. As root, a copy the `postgres` user can
    reach (initdb refuses root, and the cache under ~root is closed to others)."""
    python = client_python("pgserver", PGSERVER)
    site = next(python.parent.parent.glob("lib/python3*/site-packages"))
    if not _as_root():
        return site / "pgserver" / "pginstall" / "bin"
    shared = Path("/var/tmp") / f"modelgate-pgserver-{PGSERVER}"
    if not (shared / ".complete").exists():
        shutil.rmtree(shared, ignore_errors=True)
        # The binaries find their libraries at $ORIGIN/../../../pgserver.libs: keep the layout.
        for part in ("pgserver", "pgserver.libs"):
            shutil.copytree(site / part, shared / part)
        (shared / ".complete").touch()
    return shared / "pgserver" / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _wait(probe: str, proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited ({proc.returncode}); see {log}")
        try:
            if httpx.get(probe, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer {probe}; see {log}")


@dataclass
class Upstream:
    """The Go server on a PostgreSQL 16 cluster of its own (loopback only, trust auth: a
    throwaway cluster that lives as long as the benchmark)."""

    log_dir: Path
    postgres: subprocess.Popen[bytes] | None = None
    server: subprocess.Popen[bytes] | None = None
    port: int = field(default_factory=_free_port)
    pg_port: int = field(default_factory=_free_port)
    data: Path | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/model_registry/v1alpha3"

    def start(self) -> Upstream:
        binary = build()
        pg = _pg_bin()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.data = Path(tempfile.mkdtemp(prefix="modelgate-kubeflow-pg-", dir="/var/tmp"))
        user = "postgres" if _as_root() else None
        if user:
            shutil.chown(self.data, user, user)
        subprocess.run(
            [str(pg / "initdb"), "-D", str(self.data / "db"), "-U", "postgres", "--auth=trust"],
            check=True,
            capture_output=True,
            user=user,
        )
        pg_log = self.log_dir / "kubeflow-upstream-postgres.log"
        with pg_log.open("ab") as out:
            self.postgres = subprocess.Popen(
                [
                    str(pg / "postgres"),
                    "-D",
                    str(self.data / "db"),
                    "-p",
                    str(self.pg_port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={self.data}",
                    "-c",
                    "max_connections=200",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                user=user,
            )
        deadline = time.monotonic() + 60
        while subprocess.run(
            [str(pg / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.pg_port)],
            capture_output=True,
            check=False,
        ).returncode:
            if time.monotonic() > deadline or self.postgres.poll() is not None:
                raise RuntimeError(f"PostgreSQL 16 did not start; see {pg_log}")
            time.sleep(0.2)
        subprocess.run(
            [
                str(pg / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.pg_port),
                "-U",
                "postgres",
                "registry",
            ],
            check=True,
        )
        log = self.log_dir / "kubeflow-upstream.log"
        dsn = f"postgres://postgres@127.0.0.1:{self.pg_port}/registry?sslmode=disable"
        with log.open("ab") as out:
            self.server = subprocess.Popen(
                [
                    str(binary),
                    "proxy",
                    "--hostname",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--embedmd-database-type",
                    "postgres",
                    "--embedmd-database-dsn",
                    dsn,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait(f"{self.base}/registered_models?pageSize=1", self.server, "the upstream server", log)
        return self

    def stop(self) -> None:
        for proc in (self.server, self.postgres):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if self.data is not None:
            shutil.rmtree(self.data, ignore_errors=True)


if __name__ == "__main__":
    print(build())
