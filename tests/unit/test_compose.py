"""docker-compose.yml has the structure Docker hosts rely on (no engine runs here to try it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from modelgate_shared.kafka.acls import PRINCIPALS
from modelgate_stack.compose_acls import render
from tests.unit.images import dockerfile_services

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("registry", "ingest", "validator", "audit")
INFRA = ("kafka", "postgres", "minio")
STACK_ENV_KEYS = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SASL_MECHANISM",
    "DATABASE_URL",
    "S3_ENDPOINT_URL",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_infrastructure_uses_the_expected_images(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:4.")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["minio"]["image"].startswith("minio/minio:")
    assert services["minio"]["environment"]["MINIO_BROWSER"] == "off"


@pytest.mark.parametrize("name", INFRA + SERVICES)
def test_every_long_running_service_has_a_health_check(compose: dict[str, Any], name: str) -> None:
    check = compose["services"][name]["healthcheck"]
    assert check["test"], f"{name} has an empty health check"


@pytest.mark.parametrize("name", SERVICES)
def test_services_build_from_the_one_dockerfile_with_their_name(
    compose: dict[str, Any], name: str
) -> None:
    build = compose["services"][name]["build"]
    assert ROOT / build["context"] / build["dockerfile"] == ROOT / "Dockerfile"
    assert build["args"] == {"SERVICE": name}
    assert "target" not in build, "the default target is the service image"
    assert name in dockerfile_services()


@pytest.mark.parametrize("name", SERVICES)
def test_services_wait_for_healthy_infrastructure(compose: dict[str, Any], name: str) -> None:
    depends = compose["services"][name]["depends_on"]
    for infra in INFRA:
        assert depends[infra]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", SERVICES)
def test_services_get_the_stack_env_variables(compose: dict[str, Any], name: str) -> None:
    env = compose["services"][name]["environment"]
    for key in STACK_ENV_KEYS:
        assert key in env, f"{name} lacks {key}"


def test_data_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    volumes = compose["volumes"]
    for name in INFRA:
        mounts = compose["services"][name]["volumes"]
        named = [m.split(":")[0] for m in mounts]
        assert any(v in volumes for v in named), f"{name} keeps its data in no named volume"


def test_audit_runs_as_its_append_only_role_with_a_key_of_its_own(
    compose: dict[str, Any],
) -> None:
    audit = compose["services"]["audit"]
    assert "modelgate_audit:" in audit["environment"]["DATABASE_URL"]
    assert audit["environment"]["MODELGATE_AUDIT_SIGNING_KEY"].startswith(
        "/run/modelgate/audit-key"
    )
    holders = [
        name
        for name, service in compose["services"].items()
        if any(str(v).startswith("audit-key:") for v in service.get("volumes", []))
    ]
    assert sorted(holders) == ["audit", "secrets-init"], "only audit may read its signing key"
    init = compose["services"]["postgres"]["volumes"]
    script = next(v for v in init if "docker-entrypoint-initdb.d" in v).split(":")[0]
    assert (ROOT / script).exists()


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_runs_as_its_own_role_after_its_migration_step(
    compose: dict[str, Any], name: str
) -> None:
    services = compose["services"]
    env = services[name]["environment"]
    assert env["DATABASE_URL"].startswith(f"postgresql://modelgate_{name}:")
    assert "DATABASE_OWNER_URL" not in env, "a running service never gets the owner's URL"
    migrate = services[f"{name}-migrate"]
    assert migrate["build"] == services[name]["build"]
    assert migrate["entrypoint"][-2:] == ["modelgate_shared.db.migrate", name]
    assert migrate["environment"]["DATABASE_OWNER_URL"].startswith("postgresql://modelgate:")
    condition = services[name]["depends_on"][f"{name}-migrate"]["condition"]
    assert condition == "service_completed_successfully"
    script = (ROOT / "deploy/compose/postgres-init.sh").read_text()
    assert f"CREATE ROLE modelgate_{name} LOGIN PASSWORD" in script


def test_ports_are_bound_to_loopback_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for mapping in service.get("ports", []):
            assert mapping.startswith("127.0.0.1:"), f"{name} publishes {mapping} beyond loopback"


# -- Kafka authentication and ACLs ---------------------------------------------------------


def test_kafka_accepts_only_authenticated_clients_and_denies_without_an_acl(
    compose: dict[str, Any],
) -> None:
    env = compose["services"]["kafka"]["environment"]
    protocols = dict(p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(protocols.values()) == {"SASL_PLAINTEXT"}, "no listener without authentication"
    assert env["KAFKA_LISTENER_NAME_CLIENT_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert set(env["KAFKA_SUPER_USERS"].split(";")) == {"User:admin", "User:controller"}


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_is_its_own_kafka_principal(compose: dict[str, Any], name: str) -> None:
    env = compose["services"][name]["environment"]
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
    assert env["KAFKA_SASL_USERNAME"] == name
    assert env["KAFKA_SASL_PASSWORD"].startswith(f"${{MODELGATE_KAFKA_{name.upper()}_PASSWORD:-")
    others = [v for k, v in env.items() if k != "KAFKA_SASL_PASSWORD"]
    assert not any("MODELGATE_KAFKA_" in str(v) for v in others), "another user's password"


@pytest.mark.parametrize("name", SERVICES)
def test_services_start_after_kafka_is_provisioned(compose: dict[str, Any], name: str) -> None:
    depends = compose["services"][name]["depends_on"]
    assert depends["kafka-provision"]["condition"] == "service_completed_successfully"


def test_every_principal_is_formatted_into_kafka_before_its_first_start(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert services["kafka"]["depends_on"]["kafka-format"]["condition"] == (
        "service_completed_successfully"
    )
    env = services["kafka-format"]["environment"]
    script = (ROOT / "deploy/compose/kafka-format.sh").read_text()
    for user in ("admin", *PRINCIPALS):
        assert f"MODELGATE_KAFKA_{user.upper()}_PASSWORD" in env
        assert f"scram {user} " in script


def test_the_compose_acl_file_is_rendered_from_the_acl_table(compose: dict[str, Any]) -> None:
    path = ROOT / "deploy/compose/kafka-acls.txt"
    assert path.read_text() == render(), (
        "stale: run `uv run python -m modelgate_stack.compose_acls`"
    )
    mounts = compose["services"]["kafka-provision"]["volumes"]
    assert "./deploy/compose/kafka-acls.txt:/etc/modelgate/kafka-acls.txt:ro" in mounts


# -- observability --------------------------------------------------------------------------

OBSERVABILITY = ROOT / "deploy" / "observability"


def _mounted_files(service: dict[str, Any]) -> list[Path]:
    return [
        ROOT / m.split(":")[0]
        for m in service.get("volumes", [])
        if m.startswith("./") and (ROOT / m.split(":")[0]).is_file()
    ]


def test_observability_stack_is_there(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["otel-collector"]["image"].startswith("otel/opentelemetry-collector")
    assert services["tempo"]["image"].startswith("grafana/tempo:")
    assert services["prometheus"]["image"].startswith("prom/prometheus:")
    assert services["grafana"]["image"].startswith("grafana/grafana:")
    assert "--enable-feature=exemplar-storage" in services["prometheus"]["command"]


@pytest.mark.parametrize("name", SERVICES)
def test_services_export_traces_to_the_collector(compose: dict[str, Any], name: str) -> None:
    env = compose["services"][name]["environment"]
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"


def test_configuration_files_exist_and_parse(compose: dict[str, Any]) -> None:
    for name in ("otel-collector", "tempo", "prometheus"):
        files = _mounted_files(compose["services"][name])
        assert files, f"{name} mounts no configuration file"
        for path in files:
            assert isinstance(yaml.safe_load(path.read_text()), dict), path


def test_collector_sends_traces_to_tempo() -> None:
    config = yaml.safe_load((OBSERVABILITY / "otel-collector.yaml").read_text())
    pipeline = config["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"]
    (exporter,) = pipeline["exporters"]
    assert config["exporters"][exporter]["endpoint"] == "tempo:4317"


def test_prometheus_scrapes_every_service_with_a_token(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((OBSERVABILITY / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["authorization"]["credentials_file"] == "/run/modelgate/tokens/metrics.token"
    targets = {t for group in job["static_configs"] for t in group["targets"]}
    for name in SERVICES:
        port = compose["services"][name]["environment"][f"MODELGATE_{name.upper()}_PORT"]
        assert f"{name}:{port}" in targets
    assert any(m.startswith("tokens:") for m in compose["services"]["prometheus"]["volumes"])


def test_grafana_is_provisioned_with_the_dashboards(compose: dict[str, Any]) -> None:
    mounts = {m.split(":")[0]: m.split(":")[1] for m in compose["services"]["grafana"]["volumes"]}
    assert mounts["./deploy/observability/grafana/provisioning"] == "/etc/grafana/provisioning"
    assert mounts["./deploy/observability/grafana/dashboards"] == "/var/lib/grafana/dashboards"
    providers = yaml.safe_load(
        (OBSERVABILITY / "grafana/provisioning/dashboards/dashboards.yaml").read_text()
    )
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


@pytest.mark.parametrize("name", ["ingest", "validator", "registry"])
def test_each_service_signs_events_with_a_key_no_other_service_reads(
    compose: dict[str, Any], name: str
) -> None:
    env = compose["services"][name]["environment"]
    assert env["MODELGATE_SIGNING_KEY"].startswith(f"/run/modelgate/{name}-key/")
    holders = [
        other
        for other, service in compose["services"].items()
        if any(str(v).startswith(f"{name}-key:") for v in service.get("volumes", []))
    ]
    assert sorted(holders) == sorted([name, "secrets-init"])
    init = " ".join(compose["services"]["secrets-init"]["entrypoint"])
    assert f"--service {name}=/run/modelgate/{name}-key/event-key.pem" in init


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_reads_the_trusted_keys(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    assert service["environment"]["MODELGATE_TRUSTED_KEYS"].startswith("/run/modelgate/trust/")
    assert "trust:/run/modelgate/trust:ro" in service["volumes"]


def test_keycloak_imports_the_local_stacks_realm_and_the_services_trust_it(
    compose: dict[str, Any],
) -> None:
    keycloak = compose["services"]["keycloak"]
    assert keycloak["image"].startswith("quay.io/keycloak/keycloak:26.")
    realm = "./deploy/local/modelgate_stack/resources/keycloak-realm.json"
    assert any(v.startswith(f"{realm}:/opt/keycloak/data/import/") for v in keycloak["volumes"])
    assert (ROOT / realm).exists()
    hostname = next(a for a in keycloak["command"] if a.startswith("--hostname="))
    for name in SERVICES:
        env = compose["services"][name]["environment"]
        assert env["MODELGATE_OIDC_ISSUER"] == hostname.split("=", 1)[1] + "/realms/modelgate"
        assert env["MODELGATE_OIDC_DISCOVERY_URL"].startswith("http://keycloak:8080/realms/")
        assert "modelgate-admins=admin" in env["MODELGATE_OIDC_ROLE_MAP"]
