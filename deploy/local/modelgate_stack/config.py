"""Where the local stack keeps things and which ports it uses; all overridable by env."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

KAFKA_VERSION = "4.3.1"
# MinIO publishes no semver tags; this is the pseudo-version of its last commit (2026-02-12).
MINIO_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"
KAFKA_IMAGE = f"apache/kafka:{KAFKA_VERSION}"
"""The same Kafka as a container image (docker-compose.yml, the tests' testcontainers)."""
MINIO_BUILD_IMAGE = "golang:1.26"
"""Where the tests' testcontainers build MinIO at MINIO_VERSION: no image of that commit was
published, so the container runs the very version `make up` builds with `go install`."""
POSTGRES_IMAGE = "postgres:16-bookworm"
"""PostgreSQL as a container image (docker-compose.yml, the tests' testcontainers)."""
# Jaeger v2.13.0: its Go module is still github.com/jaegertracing/jaeger at v1.76.0.
JAEGER_MODULE_VERSION = "v1.76.0"
KEYCLOAK_VERSION = "26.7.3"
# SHA-256 of keycloak-quarkus-dist-26.7.3.zip from Maven Central (which publishes only SHA-1).
KEYCLOAK_SHA256 = "27a6535553c3cdcd083872ba40629efafb3475e3b758e0c6f691395561dd0f1f"
# The chart's tools and the schemas it is validated against (modelgate_stack.chart_tools,
# modelgate_stack.kube_schemas); built or fetched once into the cache dir, keyed by version.
HELM_VERSION = "v4.3.2"
KUBECONFORM_VERSION = "v0.8.0"
KUBERNETES_SCHEMA_VERSION = "1.33.0"  # OpenShift 4.20's Kubernetes
CNPG_VERSION = "v1.29.0"
STRIMZI_VERSION = "1.2.0"
PROMETHEUS_OPERATOR_VERSION = "v0.86.1"


@dataclass(frozen=True, kw_only=True)
class Port:
    """A port the stack listens on, with the variable that changes it."""

    env: str
    default: int

    @property
    def value(self) -> int:
        raw = os.environ.get(self.env)
        return int(raw) if raw else self.default


@dataclass(frozen=True, kw_only=True)
class Ports:
    kafka: Port = Port(env="MODELGATE_KAFKA_PORT", default=19092)
    kafka_controller: Port = Port(env="MODELGATE_KAFKA_CONTROLLER_PORT", default=19093)
    postgres: Port = Port(env="MODELGATE_POSTGRES_PORT", default=15432)
    minio: Port = Port(env="MODELGATE_MINIO_PORT", default=19000)
    registry: Port = Port(env="MODELGATE_REGISTRY_PORT", default=8080)
    ingest: Port = Port(env="MODELGATE_INGEST_PORT", default=8081)
    audit: Port = Port(env="MODELGATE_AUDIT_PORT", default=8082)
    validator: Port = Port(env="MODELGATE_VALIDATOR_PORT", default=8083)
    jaeger_otlp_http: Port = Port(env="MODELGATE_JAEGER_OTLP_HTTP_PORT", default=14318)
    jaeger_otlp_grpc: Port = Port(env="MODELGATE_JAEGER_OTLP_GRPC_PORT", default=14317)
    jaeger_query: Port = Port(env="MODELGATE_JAEGER_QUERY_PORT", default=16686)
    jaeger_query_grpc: Port = Port(env="MODELGATE_JAEGER_QUERY_GRPC_PORT", default=16685)
    jaeger_health: Port = Port(env="MODELGATE_JAEGER_HEALTH_PORT", default=13133)
    oidc: Port = Port(env="MODELGATE_OIDC_PORT", default=18180)


def _find_root() -> Path:
    """The checkout: the nearest parent holding the workspace's pyproject and Makefile."""
    env = os.environ.get("MODELGATE_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "Makefile").exists() and (candidate / "services").is_dir():
            return candidate
    return here


@dataclass(frozen=True, kw_only=True)
class StackConfig:
    root: Path = field(default_factory=_find_root)
    ports: Ports = field(default_factory=Ports)
    topic_partitions: int = field(
        default_factory=lambda: int(os.environ.get("MODELGATE_TOPIC_PARTITIONS", "3"))
    )
    kafka_heap: str = field(default_factory=lambda: os.environ.get("MODELGATE_KAFKA_HEAP", "512m"))

    @property
    def local_dir(self) -> Path:
        return self.root / ".local"

    @property
    def env_file(self) -> Path:
        return self.local_dir / "stack.env"

    @property
    def state_dir(self) -> Path:
        env = os.environ.get("MODELGATE_STATE_DIR")
        return Path(env).resolve() if env else self.local_dir / "state"

    @property
    def cache_dir(self) -> Path:
        """Downloads and builds, keyed by version, shared by every checkout on the machine."""
        env = os.environ.get("MODELGATE_CACHE_DIR")
        base = Path(env) if env else Path.home() / ".cache" / "modelgate"
        return base.resolve()

    @property
    def pid_dir(self) -> Path:
        return self.state_dir / "pids"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"
