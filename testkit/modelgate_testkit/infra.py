"""Choosing the real infrastructure the tests run against.

In this order: services given by environment variables; the local stack described by
`.local/stack.env` (kept running, restarted where a part died); testcontainers when a Docker
engine answers; otherwise the local stack is started (what `make up --infra-only` does).
`MODELGATE_TEST_STACK=env|local|containers` forces one.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from modelgate_shared.kafka.acls import PRINCIPALS
from modelgate_shared.kafka.security import KafkaAccess
from modelgate_shared.s3_policies import S3_SERVICES
from modelgate_shared.settings import ServiceSettings
from modelgate_stack.config import StackConfig
from modelgate_stack.envfile import read_env
from modelgate_stack.stack import Stack
from modelgate_testkit import containers
from modelgate_testkit.oidc import OidcProvider
from modelgate_testkit.roles import create_roles, service_urls

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "S3_ENDPOINT_URL")


@dataclass(frozen=True)
class Infra:
    source: str
    kafka: KafkaAccess
    """The broker as its admin: what the tests' taps, raw producers and admin clients use."""
    database_url: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    s3_region: str = "us-east-1"
    service_database_urls: Mapping[str, str] = field(default_factory=dict)
    """Each service's own least-privilege role (service name -> URL, any database), where the
    infrastructure has them; a service without one runs as the owner (DATABASE_URL)."""
    superuser_url: str | None = None
    """A PostgreSQL superuser (the local stack's), for tests that play a rogue superuser."""
    otlp_endpoint: str | None = None
    """Where services export traces (OTLP/HTTP); None when no trace backend is known."""
    traces_query_url: str | None = None
    """The trace backend's query API (Jaeger's /api/traces/<id>)."""
    s3_users: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Each service's own S3 user (service name -> access key, secret key), where MinIO has
    them; a service without one runs as the S3 root (s3_access_key)."""
    oidc: OidcProvider | None = None
    """The OpenID Connect provider the services trust, where the infrastructure has one."""
    kafka_principals: dict[str, KafkaAccess] | None = None
    """The broker as each principal of the ACL table (a service, `submitter`); None where
    the broker has no users (then everyone connects as `kafka`)."""

    def kafka_as(self, principal: str) -> KafkaAccess:
        """The broker as one principal of the ACL table."""
        return (self.kafka_principals or {}).get(principal, self.kafka)

    def env(self) -> dict[str, str]:
        """The infrastructure's endpoints, and how Kafka clients authenticate (but as whom is
        each service's own: Namespace.identity_env)."""
        kafka: dict[str, str] = {
            "KAFKA_SECURITY_PROTOCOL": self.kafka.security_protocol,
            "KAFKA_SASL_MECHANISM": self.kafka.sasl_mechanism,
        }
        if self.kafka.ssl_cafile is not None:
            kafka["KAFKA_SSL_CAFILE"] = str(self.kafka.ssl_cafile)
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers,
            **kafka,
            "DATABASE_URL": self.database_url,
            "S3_ENDPOINT_URL": self.s3_endpoint,
            "S3_ACCESS_KEY": self.s3_access_key,
            "S3_SECRET_KEY": self.s3_secret_key,
            "S3_REGION": self.s3_region,
        }


def kafka_users(values: dict[str, str]) -> tuple[KafkaAccess, dict[str, KafkaAccess] | None]:
    """The admin's access and each principal's, from `.local/stack.env`'s
    MODELGATE_KAFKA_<USER>_USERNAME / _PASSWORD; given only KAFKA_SASL_USERNAME / _PASSWORD
    (a cluster where the tests hold one user), that user for all."""
    admin_user = values.get("MODELGATE_KAFKA_ADMIN_USERNAME")
    admin_password = values.get("MODELGATE_KAFKA_ADMIN_PASSWORD")
    given = dict(values)
    if admin_user and admin_password:
        given |= {"KAFKA_SASL_USERNAME": admin_user, "KAFKA_SASL_PASSWORD": admin_password}
    admin = ServiceSettings.model_validate(given).kafka
    if not admin.uses_sasl:
        return admin, None
    principals = {}
    for principal in PRINCIPALS:
        user = values.get(f"MODELGATE_KAFKA_{principal.upper()}_USERNAME")
        password = values.get(f"MODELGATE_KAFKA_{principal.upper()}_PASSWORD")
        principals[principal] = admin.as_user(user, password) if user and password else admin
    return admin, principals


def s3_users(values: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """<SERVICE>_S3_ACCESS_KEY / _SECRET_KEY of `.local/stack.env`, by service."""
    users = {}
    for service in S3_SERVICES:
        key = values.get(f"{service.upper()}_S3_ACCESS_KEY")
        secret = values.get(f"{service.upper()}_S3_SECRET_KEY")
        if key and secret:
            users[service] = (key, secret)
    return users


def _from_mapping(source: str, values: dict[str, str]) -> Infra:
    kafka, principals = kafka_users(values)
    return Infra(
        source=source,
        kafka=kafka,
        kafka_principals=principals,
        database_url=values["DATABASE_URL"],
        s3_endpoint=values["S3_ENDPOINT_URL"],
        s3_access_key=values.get("S3_ACCESS_KEY", "minioadmin"),
        s3_secret_key=values.get("S3_SECRET_KEY", "minioadmin"),
        s3_region=values.get("S3_REGION", "us-east-1"),
        service_database_urls=service_urls(values),
        s3_users=s3_users(values),
        superuser_url=values.get("DATABASE_SUPERUSER_URL"),
        otlp_endpoint=values.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
        traces_query_url=values.get("TRACES_QUERY_URL") or None,
        oidc=OidcProvider.from_env(values),
    )


def from_environment() -> Infra | None:
    if all(os.environ.get(k) for k in REQUIRED):
        return _from_mapping("env", dict(os.environ))
    return None


def local_stack(*, start: bool) -> Infra | None:
    """The local stack's infrastructure; started (or healed) when `start` or already known."""
    config = StackConfig(root=ROOT)
    if not start and not config.env_file.exists():
        return None
    # Idempotent: returns at once when everything runs, restarts what died.
    Stack(config).up(services=False, log=False)
    return _from_mapping("local", read_env(config.env_file))


def docker_available() -> bool:
    try:
        docker = importlib.import_module("docker")
        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


@contextlib.contextmanager
def from_containers() -> Iterator[Infra]:
    """Kafka, PostgreSQL and MinIO as testcontainers, at the local stack's versions."""
    with contextlib.ExitStack() as stack:
        bootstrap = stack.enter_context(containers.kafka())
        # The container's user is a superuser: it creates the owner and the services' roles.
        superuser_url = stack.enter_context(containers.postgres())
        cfg = stack.enter_context(containers.minio())
        owner_url, roles = create_roles(superuser_url)
        yield Infra(
            source="containers",
            kafka=KafkaAccess(bootstrap_servers=bootstrap),
            database_url=owner_url,
            service_database_urls=roles,
            superuser_url=superuser_url,
            s3_endpoint=f"http://{cfg['endpoint']}",
            s3_access_key=cfg["access_key"],
            s3_secret_key=cfg["secret_key"],
        )


@contextlib.contextmanager
def choose_infra() -> Iterator[Infra]:
    forced = os.environ.get("MODELGATE_TEST_STACK", "")
    if forced in ("", "env") and (infra := from_environment()):
        yield infra
        return
    if forced == "env":
        raise RuntimeError(f"MODELGATE_TEST_STACK=env but {', '.join(REQUIRED)} are not all set")
    if forced in ("", "local") and (infra := local_stack(start=forced == "local")):
        yield infra
        return
    if forced == "containers" or (forced == "" and docker_available()):
        with from_containers() as infra:
            yield infra
        return
    infra = local_stack(start=True)
    assert infra is not None
    yield infra
