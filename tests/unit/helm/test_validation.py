"""The chart lints, renders with every value set, and every rendered object passes strict
validation against the Kubernetes API schema of a stated version and the Strimzi,
CloudNativePG and Prometheus Operator CRD schemas; and that validation does refuse a broken
manifest (so a green run means something)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.helm.conftest import CHART, VALUE_SETS, Rendered, Tools, helm_template, kubeconform

# The first test of a session may build helm (`make test` does it beforehand: chart-tools).
pytestmark = pytest.mark.timeout(3600)

NO_PUBLISHED_SCHEMA = {"Route"}
"""OpenShift's Route has no CRD in a package these tests can fetch (OpenShift serves it from
its own API server): it is checked field by field in test_consistency instead."""


def results(done: subprocess.CompletedProcess[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    report = json.loads(done.stdout)
    return report["resources"], report["summary"]


def test_helm_lint_is_clean(tools: Tools) -> None:
    for value_set in VALUE_SETS:
        done = subprocess.run(
            [str(tools.helm), "lint", "--strict", str(CHART), "-f",
             str(CHART / "ci" / f"{value_set}-values.yaml")],
            capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, f"{value_set}: {done.stdout}{done.stderr}"


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_every_object_is_valid_against_its_schema(
    tools: Tools, rendered: dict[str, Rendered], value_set: str
) -> None:
    page = rendered[value_set]
    kinds = {o["kind"] for o in page.objects}
    done = kubeconform(tools, page.path, "-skip", ",".join(NO_PUBLISHED_SCHEMA), "-verbose")
    resources, summary = results(done)
    problems = [r for r in resources if r["status"] not in ("statusValid", "statusSkipped")]
    assert not problems, json.dumps(problems, indent=1)
    assert done.returncode == 0, done.stderr
    skipped = {r["kind"] for r in resources if r["status"] == "statusSkipped"}
    assert skipped <= NO_PUBLISHED_SCHEMA
    assert summary["valid"] + summary["skipped"] == len(page.objects)
    assert summary["invalid"] == summary["errors"] == 0
    # What each value set is for, so a value set that silently rendered less fails here.
    expected = {
        "default": {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "Cluster",
                    "ScheduledBackup", "HorizontalPodAutoscaler", "NetworkPolicy", "Ingress"},
        "gpu": {"PersistentVolumeClaim", "ServiceMonitor", "PodMonitor", "ConfigMap"},
        "openshift": {"Route", "ServiceMonitor"},
        "minimal": {"Deployment", "Service", "Job"},
    }[value_set]  # fmt: skip
    assert expected <= kinds, expected - kinds


def test_the_crd_schemas_of_every_kind_the_chart_renders_are_in_the_set(
    tools: Tools, rendered: dict[str, Rendered]
) -> None:
    have = tools.schemas.crd_kinds()
    for page in rendered.values():
        for o in page.objects:
            group, _, version = o["apiVersion"].rpartition("/")
            if "." in group and o["kind"] not in NO_PUBLISHED_SCHEMA and "k8s.io" not in group:
                assert (group, o["kind"].lower(), version) in have, o["apiVersion"] + o["kind"]


BROKEN: dict[str, str] = {
    "an unknown container field": """
apiVersion: apps/v1
kind: Deployment
metadata: {name: broken}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers: [{name: c, image: i, readinessprobe: {httpGet: {path: /readyz, port: 8080}}}]
""",
    "a probe port of the wrong type": """
apiVersion: v1
kind: Pod
metadata: {name: broken}
spec:
  containers: [{name: c, image: i, livenessProbe: {httpGet: {path: /healthz, port: [8080]}}}]
""",
    "a KafkaUser ACL in a form Strimzi's v1 API dropped": """
apiVersion: kafka.strimzi.io/v1
kind: KafkaUser
metadata: {name: broken, labels: {strimzi.io/cluster: k}}
spec:
  authentication: {type: scram-sha-512}
  authorization:
    type: simple
    acls: [{resource: {type: topic, name: model.submitted}, operation: Read}]
""",
    "a CloudNativePG Cluster with a misspelt field": """
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: broken}
spec:
  instances: 3
  storage: {size: 1Gi}
  bootstrap: {initdb: {database: modelgate, owner: modelgate, ownr: x}}
""",
    "a KafkaTopic with partitions as text": """
apiVersion: kafka.strimzi.io/v1
kind: KafkaTopic
metadata: {name: broken, labels: {strimzi.io/cluster: k}}
spec: {partitions: twelve, replicas: 3}
""",
    "a kind no schema knows": """
apiVersion: example.com/v1
kind: Gadget
metadata: {name: broken}
spec: {}
""",
    "a duplicated key": """
apiVersion: v1
kind: ConfigMap
metadata: {name: broken, name: twice}
data: {}
""",
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_manifest_is_refused(tools: Tools, tmp_path: Path, case: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN[case])
    done = kubeconform(tools, path)
    resources, summary = results(done)
    assert done.returncode != 0, f"accepted: {case}"
    assert summary["invalid"] + summary["errors"] == 1, resources


def test_the_same_object_fixed_is_accepted(tools: Tools, tmp_path: Path) -> None:
    # The broken KafkaUser above, in the v1 form: the refusals are about the fault, not the kind.
    fixed = yaml.safe_load(BROKEN["a KafkaUser ACL in a form Strimzi's v1 API dropped"])
    acl = fixed["spec"]["authorization"]["acls"][0]
    acl["operations"] = [acl.pop("operation")]
    path = tmp_path / "fixed.yaml"
    path.write_text(yaml.safe_dump(fixed))
    done = kubeconform(tools, path)
    assert done.returncode == 0, done.stdout


def test_a_cpu_and_a_gpu_validator_together_are_refused(tools: Tools) -> None:
    done = helm_template(tools, "--set", "validatorGpu.enabled=true")
    assert done.returncode != 0
    assert "split the submissions" in done.stderr
