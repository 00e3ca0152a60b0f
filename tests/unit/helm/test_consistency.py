"""The rendered chart agrees with the code it deploys: every setting each service needs is
given (its settings class accepts the environment, and what it refuses to work without is
there), files it names are mounted, probes hit endpoints the service's app serves, the Kafka
topics are shared/'s, each KafkaUser holds exactly the ACLs `make up` grants that principal,
and the pods fit OpenShift's restricted-v2 SCC."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI

from modelgate_audit.main import build_app as audit_app
from modelgate_audit.settings import AuditSettings
from modelgate_ingest.main import build_app as ingest_app
from modelgate_ingest.settings import IngestSettings
from modelgate_registry.main import build_app as registry_app
from modelgate_registry.settings import RegistrySettings
from modelgate_shared.kafka.acls import PRINCIPALS, acl_table
from modelgate_shared.settings import ServiceSettings
from modelgate_shared.topics import Topics
from modelgate_stack.chart_data import render
from modelgate_stack.kafka_provisioning import bindings
from modelgate_validator.main import build_app as validator_app
from modelgate_validator.settings import ValidatorSettings
from tests.unit.helm.conftest import (
    CHART,
    RELEASE,
    ROOT,
    VALUE_SETS,
    Manifest,
    Rendered,
    Tools,
    helm_template,
)
from tests.unit.images import dockerfile_services, dockerfile_stages

# The first test of a session may build helm (`make test` does it beforehand: chart-tools).
pytestmark = pytest.mark.timeout(3600)

SETTINGS: dict[str, type[ServiceSettings]] = {
    "registry": RegistrySettings,
    "ingest": IngestSettings,
    "audit": AuditSettings,
    "validator": ValidatorSettings,
}
FULLNAME = f"{RELEASE}-modelgate"
# What a service refuses to start without, or runs uselessly without, on a cluster (their
# defaults only fit the local stack): docs/kafka-security.md, docs/database-roles.md,
# docs/event-signatures.md, docs/access-control.md.
NEEDED_BY_EVERY_SERVICE = {
    "KAFKA_BOOTSTRAP_SERVERS",  # default: the local stack's loopback broker
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SASL_USERNAME",  # SASL without them: KafkaSecurityError at start
    "KAFKA_SASL_PASSWORD",
    "DATABASE_URL",  # default: the local stack's loopback PostgreSQL
    "S3_ENDPOINT_URL",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "MODELGATE_TRUSTED_KEYS",  # a consumer without it stops at start (bootstrap.py)
    "MODELGATE_TOKENS_FILE",  # without it every request gets 401
    "MODELGATE_ENVIRONMENT",
    "MODELGATE_HTTP_HOST",  # default 127.0.0.1: no probe could reach it
}
NEEDED_BY = {
    "registry": {"MODELGATE_SIGNING_KEY", "MODELGATE_REGISTRY_PORT"},  # unsigned events: DLQ
    "ingest": {"MODELGATE_SIGNING_KEY", "MODELGATE_INGEST_PORT"},
    "validator": {
        "MODELGATE_SIGNING_KEY",
        "MODELGATE_VALIDATOR_PORT",
        "MODELGATE_VALIDATOR_WORK_DIR",
    },
    "audit": {"MODELGATE_AUDIT_SIGNING_KEY", "MODELGATE_AUDIT_PORT"},  # unsigned: no checkpoints
}
SECRET_SETTINGS = {"KAFKA_SASL_PASSWORD", "S3_ACCESS_KEY", "S3_SECRET_KEY", "DATABASE_URL"}


def deployments(page: Rendered) -> Iterator[tuple[str, Manifest]]:
    """(service, Deployment) of each service the value set runs, the GPU validator included."""
    for d in page.of_kind("Deployment"):
        component = d["metadata"]["labels"]["app.kubernetes.io/component"]
        if component in SETTINGS:
            yield component, d
        elif component == "validator-gpu":
            yield "validator", d


def container(deployment: Manifest) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    result: dict[str, Any] = only
    return result


def environment(c: dict[str, Any]) -> dict[str, str]:
    """The container's environment as the kubelet makes it: references to Secrets become
    placeholders, $(NAME) expands to variables defined before it."""
    env: dict[str, str] = {}
    for item in c.get("env", []):
        if "value" in item:
            value = re.sub(r"\$\(([A-Z0-9_]+)\)", lambda m: env.get(m[1], m[0]), item["value"])
        else:
            ref = item["valueFrom"]
            kind, (found,) = next(iter(ref.items())), [next(iter(ref.values()))]
            value = f"{kind[0]}-{found['name']}-{found['key']}"
        assert item["name"] not in env, f"{item['name']} given twice"
        env[item["name"]] = value
    return env


def mounted(c: dict[str, Any], path: str) -> bool:
    return any(
        path == m["mountPath"] or path.startswith(m["mountPath"].rstrip("/") + "/")
        for m in c.get("volumeMounts", [])
    )


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_every_service_gets_every_setting_it_needs(
    rendered: dict[str, Rendered], value_set: str
) -> None:
    page = rendered[value_set]
    seen = set()
    for service, deployment in deployments(page):
        seen.add(service)
        c = container(deployment)
        env = environment(c)
        needed = NEEDED_BY_EVERY_SERVICE | NEEDED_BY[service]
        assert not needed - set(env), f"{service} lacks {sorted(needed - set(env))}"
        # The settings class takes the environment (types and bounds included) ...
        settings = SETTINGS[service].model_validate(env)
        required = {
            (f.validation_alias if isinstance(f.validation_alias, str) else name)
            for name, f in SETTINGS[service].model_fields.items()
            if f.is_required()
        }
        assert not required - set(env), f"{service} lacks required {required - set(env)}"
        # ... and what it builds from it at start works: Kafka's credentials are complete.
        assert settings.kafka.uses_sasl
        assert settings.kafka.uses_tls == ("SSL" in env["KAFKA_SECURITY_PROTOCOL"])
        assert settings.http_host == "0.0.0.0"
        port = c["ports"][0]
        assert port["name"] == "http"
        assert settings.http_port == port["containerPort"], f"{service} listens elsewhere"
        # Every file it is told about is mounted into the container.
        for name, value in env.items():
            if value.startswith(("/run/", "/var/lib/")):
                assert mounted(c, value), f"{service}: {name}={value} is not mounted"
        # Secrets only by reference, never a literal value in the manifest.
        for name in SECRET_SETTINGS:
            item = next(i for i in c["env"] if i["name"] == name)
            assert "valueFrom" in item or "$(" in item.get("value", ""), f"{service}: {name}"
        assert "DATABASE_OWNER_URL" not in env, "no service runs as the schema owner"
    expected = {"registry", "ingest", "audit", "validator"}
    assert seen == expected


@pytest.mark.parametrize("value_set", ["default", "gpu", "openshift"])
def test_services_connect_to_the_cnpg_rw_service_as_their_own_role(
    rendered: dict[str, Rendered], value_set: str
) -> None:
    page = rendered[value_set]
    (cluster,) = page.of_kind("Cluster")
    roles = {r["name"]: r for r in cluster["spec"]["managed"]["roles"]}
    for service, deployment in deployments(page):
        url = environment(container(deployment))["DATABASE_URL"]
        match = re.fullmatch(r"postgresql://([a-z_]+):(.+)@([a-z0-9-]+):5432/modelgate", url)
        assert match, url
        assert match[1] == f"modelgate_{service}"
        assert match[3] == f"{cluster['metadata']['name']}-rw"
        role = roles[match[1]]
        assert role["login"] is True
        assert not role.get("superuser")
        assert not role.get("createdb")
        password_secret = role["passwordSecret"]["name"]
        assert match[2] == f"secretKeyRef-{password_secret}-password"
    assert cluster["spec"]["instances"] == 3
    assert cluster["spec"]["backup"]["barmanObjectStore"]["destinationPath"].startswith("s3://")


@pytest.fixture(scope="module")
def app_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each service's real app (its composition root, built offline) and the paths it serves."""
    keys = tmp_path_factory.mktemp("trust") / "trusted-keys.json"
    keys.write_text(json.dumps({"keys": []}))
    builders: dict[str, Any] = {
        "registry": registry_app,
        "ingest": ingest_app,
        "audit": audit_app,
        "validator": validator_app,
    }
    paths: dict[str, dict[str, Any]] = {}
    for service, build in builders.items():
        settings = SETTINGS[service].model_validate({"MODELGATE_TRUSTED_KEYS": str(keys)})
        app: FastAPI = build(settings)
        paths[service] = app.openapi()["paths"]
    return paths


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_probes_hit_endpoints_the_service_serves(
    rendered: dict[str, Rendered], value_set: str, app_paths: dict[str, dict[str, Any]]
) -> None:
    for service, deployment in deployments(rendered[value_set]):
        c = container(deployment)
        probes = {k: c[k]["httpGet"] for k in ("livenessProbe", "readinessProbe", "startupProbe")}
        assert probes["livenessProbe"]["path"] == "/healthz"
        assert probes["readinessProbe"]["path"] == "/readyz"
        for kind, probe in probes.items():
            assert "get" in app_paths[service][probe["path"]], f"{service} {kind}"
            assert probe["port"] == "http"


def test_kafka_topics_are_the_topics_of_shared(rendered: dict[str, Rendered]) -> None:
    page = rendered["default"]
    topics = {t["spec"]["topicName"]: t for t in page.of_kind("KafkaTopic")}
    shared = Topics()
    assert sorted(topics) == sorted(shared.all_topics())
    for name, topic in topics.items():
        policy = topic["spec"]["config"]["cleanup.policy"]
        assert policy == ("compact" if name == shared.checkpoints else "delete"), name
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == f"{FULLNAME}-kafka"
    # Partitions and replicas come from the values, per class.
    assert topics["model.submitted"]["spec"]["partitions"] == 12
    assert topics["model.submitted.dlq"]["spec"]["partitions"] == 3
    assert topics["audit.checkpoints"]["spec"]["partitions"] == 1
    assert topics["model.submitted"]["spec"]["config"]["retention.ms"] == 604800000


def test_a_topic_override_changes_only_that_topic(tools: Tools) -> None:
    done = helm_template(tools, "--set", "kafka.topics.overrides.model\\.submitted.partitions=48")
    assert done.returncode == 0, done.stderr
    topics = {
        d["spec"]["topicName"]: d["spec"]
        for d in yaml.safe_load_all(done.stdout)
        if d and d["kind"] == "KafkaTopic"
    }
    assert topics["model.submitted"]["partitions"] == 48
    assert topics["model.submitted"]["replicas"] == 3, "the rest of the class still applies"
    assert topics["model.validated"]["partitions"] == 12


def _enum_name(value: object) -> str:
    name = getattr(value, "name", None)
    assert isinstance(name, str), value
    return name


def test_each_kafka_user_holds_exactly_what_make_up_grants(rendered: dict[str, Rendered]) -> None:
    """Compared with the ACL bindings the local stack creates (modelgate_stack.kafka_provisioning,
    from modelgate_shared.kafka.acls), binding by binding."""
    page = rendered["default"]
    users = {
        u["metadata"]["labels"]["modelgate.dev/principal"]: u for u in page.of_kind("KafkaUser")
    }
    assert set(users) == set(PRINCIPALS)
    granted = set()
    for principal, user in users.items():
        assert user["metadata"]["name"] == f"modelgate-{principal}"
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        for acl in user["spec"]["authorization"]["acls"]:
            resource = acl["resource"]
            assert resource["patternType"] == "literal"
            assert acl.get("type", "allow") == "allow"
            assert acl["host"] == "*"
            for operation in acl["operations"]:
                granted.add((f"User:{principal}", resource["type"], resource["name"], operation))
    local = {
        (b.principal, _enum_name(b.restype).lower(), b.name, _enum_name(b.operation).capitalize())
        for b in bindings(acl_table())
    }
    assert granted == local
    # The services authenticate as their users, with the User Operator's password Secret.
    for service, deployment in deployments(page):
        env = environment(container(deployment))
        assert env["KAFKA_SASL_USERNAME"] == f"modelgate-{service}"
        assert env["KAFKA_SASL_PASSWORD"] == f"secretKeyRef-modelgate-{service}-password"
    (kafka,) = page.of_kind("Kafka")
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    assert kafka["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False
    pools = page.of_kind("KafkaNodePool")
    assert {r for p in pools for r in p["spec"]["roles"]} == {"controller", "broker"}


def test_the_charts_data_files_are_current() -> None:
    for name, text in render(ROOT).items():
        path = CHART / "files" / name
        assert path.exists()
        assert path.read_text() == text, (
            f"{path} is stale: run `uv run python -m modelgate_stack.chart_data`"
        )


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_pods_fit_openshift_restricted_v2(rendered: dict[str, Rendered], value_set: str) -> None:
    page = rendered[value_set]
    openshift = value_set == "openshift"
    templates = [
        (o["metadata"]["name"], o["spec"]["template"]["spec"])
        for o in page.objects
        if o["kind"] in ("Deployment", "Job")
    ]
    assert templates
    for name, pod in templates:
        security = pod["securityContext"]
        assert security["runAsNonRoot"] is True, name
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}, name
        # On OpenShift the SCC assigns them from the namespace's range: none may be fixed.
        assert openshift == ("runAsUser" not in security), name
        assert openshift == ("fsGroup" not in security), name
        for host_namespace in ("hostNetwork", "hostPID", "hostIPC"):
            assert not pod.get(host_namespace), name
        assert pod.get("automountServiceAccountToken") is False, name
        for c in pod.get("initContainers", []) + pod["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["capabilities"] == {"drop": ["ALL"]}, name
            assert not sc.get("privileged"), name
            assert "runAsUser" not in sc, name
            assert mounted(c, "/tmp") or c["name"] == "minio", f"{name}: no writable /tmp"
        for volume in pod.get("volumes", []):
            assert "hostPath" not in volume, name


def test_hpa_for_ingest_and_registry_and_a_pdb_for_every_service(
    rendered: dict[str, Rendered],
) -> None:
    page = rendered["default"]
    hpas = {h["spec"]["scaleTargetRef"]["name"] for h in page.of_kind("HorizontalPodAutoscaler")}
    assert hpas == {f"{FULLNAME}-registry", f"{FULLNAME}-ingest"}
    for name in hpas:
        assert "replicas" not in page.named("Deployment", name)["spec"], "the HPA owns it"
    pdbs = {p["metadata"]["name"] for p in page.of_kind("PodDisruptionBudget")}
    assert pdbs == {f"{FULLNAME}-{s}" for s in SETTINGS}


@pytest.mark.parametrize("value_set", ["default", "gpu", "openshift"])
def test_network_policies_expose_only_registry_and_ingest(
    rendered: dict[str, Rendered], value_set: str
) -> None:
    page = rendered[value_set]
    policies = {
        p["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"]: p
        for p in page.of_kind("NetworkPolicy")
    }
    scrapers = page.objects and json.dumps(
        policies["modelgate-registry"]["spec"]["ingress"][-1]["from"]
    )
    for _, deployment in deployments(page):
        name = deployment["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        policy = policies[name]["spec"]
        assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
        sources = [json.dumps(rule["from"]) for rule in policy["ingress"]]
        exposed = name in ("modelgate-registry", "modelgate-ingest")
        assert len(sources) == (2 if exposed else 1), name
        assert sources[-1] == scrapers, "every service: only the scrapers besides"
        egress_ports = {p["port"] for rule in policy["egress"] for p in rule.get("ports", [])}
        assert egress_ports <= {53, 5353, 9093, 5432, 443, 9000, 4317, 4318}, egress_ports


def test_migrations_run_as_a_hook_as_the_owner_in_each_services_image(
    rendered: dict[str, Rendered],
) -> None:
    for value_set, hook in (
        ("default", "post-install,pre-upgrade"),
        ("minimal", "pre-install,pre-upgrade"),
    ):
        (job,) = [
            j for j in rendered[value_set].of_kind("Job")
            if j["metadata"]["labels"].get("app.kubernetes.io/component") == "migrations"
        ]  # fmt: skip
        assert job["metadata"]["annotations"]["helm.sh/hook"] == hook
        pod = job["spec"]["template"]["spec"]
        steps = pod["initContainers"] + pod["containers"]
        assert [c["command"][-1] for c in steps] == ["registry", "ingest", "validator", "audit"]
        for c in steps:
            service = c["command"][-1]
            assert c["command"][:3] == ["python", "-m", "modelgate_shared.db.migrate"]
            assert c["image"].endswith(f"/modelgate-{service}:0.1.0")
            env = environment(c)
            assert env["DATABASE_OWNER_URL"].startswith("secretKeyRef-")
            role = env.get(f"{service.upper()}_DATABASE_ROLE") or env.get(
                f"{service.upper()}_DATABASE_URL"
            )
            assert role, f"the migration step would not know {service}'s role"


def test_the_gpu_validator_runs_on_an_l4_with_its_cache_and_shared_memory(
    rendered: dict[str, Rendered],
) -> None:
    page = rendered["gpu"]
    deployment = page.named("Deployment", f"{FULLNAME}-validator-gpu")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-L4"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
        "tolerations"
    ]
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    c = container(deployment)
    assert c["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert c["resources"]["requests"]["nvidia.com/gpu"] == 1
    env = environment(c)
    assert env["MODELGATE_BENCHMARK_RUNNERS"] == "vllm"
    assert env["MODELGATE_BENCHMARK_REQUIRED"] == "true"
    assert c["image"].endswith("/modelgate-validator-gpu:0.1.0")
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    assert volumes[mounts["/dev/shm"]]["emptyDir"]["medium"] == "Memory"
    cache = volumes[mounts[env["MODELGATE_VALIDATOR_WORK_DIR"]]]["persistentVolumeClaim"]
    claim = page.named("PersistentVolumeClaim", cache["claimName"])
    assert claim["spec"]["resources"]["requests"]["storage"] == "300Gi"
    assert env["HOME"].startswith(env["MODELGATE_VALIDATOR_WORK_DIR"]), "read-only root"
    assert not [
        d for d in page.of_kind("Deployment") if d["metadata"]["name"].endswith("-validator")
    ]


def test_observability_objects(rendered: dict[str, Rendered]) -> None:
    page = rendered["gpu"]
    (monitor,) = page.of_kind("ServiceMonitor")
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["authorization"]["credentials"] == {
        "name": "modelgate-metrics-token",
        "key": "token",
    }
    (pods,) = page.of_kind("PodMonitor")
    assert pods["spec"]["podMetricsEndpoints"][0]["authorization"] == endpoint["authorization"]
    dashboard = page.named("ConfigMap", f"{FULLNAME}-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    source = (
        ROOT / "deploy" / "observability" / "grafana" / "dashboards" / "modelgate-pipeline.json"
    )
    assert json.loads(dashboard["data"]["modelgate-pipeline.json"]) == json.loads(
        source.read_text()
    )
    for _, deployment in deployments(page):
        env = environment(container(deployment))
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability:4318"


def test_identity_settings_are_values_and_secrets_are_references(
    rendered: dict[str, Rendered],
) -> None:
    for _, deployment in deployments(rendered["openshift"]):
        env = environment(container(deployment))
        assert env["MODELGATE_OIDC_ISSUER"] == "https://keycloak.example.com/realms/modelgate"
        assert env["MODELGATE_OIDC_AUDIENCE"] == "modelgate"
        assert env["MODELGATE_OIDC_ROLES_CLAIM"] == "groups"
        assert json.loads(env["MODELGATE_OIDC_ROLE_MAP"])["modelgate-admins"] == "admin"
        assert env["MODELGATE_OIDC_ALGORITHMS"] == "RS256"
        assert env["MODELGATE_OIDC_CLIENT_ID"] == "modelgate-web"
    for _, deployment in deployments(rendered["default"]):
        assert not any(n.startswith("MODELGATE_OIDC_") for n in environment(container(deployment)))
    # The chart writes no Secret but the passwords it generates (database roles, MinIO).
    for page in rendered.values():
        for secret in page.of_kind("Secret"):
            name = secret["metadata"]["name"]
            assert re.fullmatch(rf"{FULLNAME}-(db|s3)-[a-z]+|{FULLNAME}-minio-root", name), name
    values = (CHART / "values.yaml").read_text()
    assert not re.search(r"(?i)^\s*(password|secretKey|token)\s*:\s*\S", values, re.M)


def test_routes_on_openshift(rendered: dict[str, Rendered]) -> None:
    page = rendered["openshift"]
    routes = {r["metadata"]["name"]: r["spec"] for r in page.of_kind("Route")}
    assert set(routes) == {f"{FULLNAME}-registry", f"{FULLNAME}-ingest"}
    for name, spec in routes.items():
        assert set(spec) <= {"host", "to", "port", "tls"}
        assert spec["to"] == {"kind": "Service", "name": name, "weight": 100}
        assert page.named("Service", name)["spec"]["ports"][0]["name"] == spec["port"]["targetPort"]
        assert spec["tls"] == {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"}
    assert not page.of_kind("Ingress")


def test_images_are_the_targets_of_the_one_dockerfile(rendered: dict[str, Rendered]) -> None:
    services = dockerfile_services()
    for page in rendered.values():
        for o in page.objects:
            if o["kind"] not in ("Deployment", "Job"):
                continue
            pod = o["spec"]["template"]["spec"]
            for c in pod.get("initContainers", []) + pod["containers"]:
                image = c["image"]
                if "/modelgate-" not in image:
                    continue  # MinIO's own images
                name = image.rsplit("/modelgate-", 1)[1].split(":")[0]
                assert name in services or name in dockerfile_stages(), image


def test_the_evaluation_minio_gives_each_service_its_own_user(
    rendered: dict[str, Rendered],
) -> None:
    page = rendered["openshift"]
    policies = page.named("ConfigMap", f"{FULLNAME}-minio-policies")["data"]
    assert set(policies) == {f"{s}.json" for s in SETTINGS}
    for service, deployment in deployments(page):
        env = environment(container(deployment))
        assert env["S3_ENDPOINT_URL"] == f"http://{FULLNAME}-minio:9000"
        assert env["S3_ACCESS_KEY"] == f"secretKeyRef-{FULLNAME}-s3-{service}-accessKey"
        assert "arn:aws:s3:::modelgate" in policies[f"{service}.json"]


def test_chart_files_exist() -> None:
    assert (CHART / "Chart.yaml").exists()
    assert not (ROOT / "deploy" / "gpu" / "validator-l4.yaml").exists(), "folded into the chart"
    assert Path(CHART / "templates" / "validator-gpu.yaml").exists()
