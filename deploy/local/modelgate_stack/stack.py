"""The local stack as a whole: bring it up, take it down, say what runs."""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from modelgate_audit.checkpoints import generate_key_file
from modelgate_shared.auth.demo_tokens import token_file
from modelgate_shared.kafka.acls import PRINCIPALS
from modelgate_shared.signing.keys import generate_gate_key_files
from modelgate_stack.component import Component
from modelgate_stack.config import StackConfig
from modelgate_stack.credentials import KAFKA_ADMIN, Credentials
from modelgate_stack.envfile import write_env
from modelgate_stack.event_keys import EventKeys
from modelgate_stack.jaeger import Jaeger
from modelgate_stack.kafka import Kafka
from modelgate_stack.keycloak import Keycloak
from modelgate_stack.minio import MinIO
from modelgate_stack.postgres import Postgres
from modelgate_stack.processes import ProcessTable
from modelgate_stack.progress import Job, Progress
from modelgate_stack.services import SERVICE_NAMES, ModelgateService


@dataclass(frozen=True)
class StatusLine:
    name: str
    pid: int | None
    where: str

    @property
    def running(self) -> bool:
        return self.pid is not None


FIRST_RUN_ESTIMATE = "about 8 minutes on 2 cores"
"""Measured: building MinIO and Jaeger and fetching Kafka's jars on a fresh 2-core machine."""


class Stack:
    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self.procs = ProcessTable(self.config.pid_dir)
        self.creds = Credentials.load_or_create(self.config.state_dir / "credentials.json")
        self.postgres = Postgres(self.config, self.procs, self.creds)
        self.kafka = Kafka(self.config, self.procs, self.creds)
        self.minio = MinIO(self.config, self.procs, self.creds)
        self.jaeger = Jaeger(self.config, self.procs)
        self.oidc = Keycloak(self.config, self.procs, self.creds)
        self.event_keys = EventKeys(self.config.state_dir)

    @property
    def signing_key(self) -> Path:
        """Ed25519 key of the audit checkpoints: in the state dir, never in the database."""
        return self.config.state_dir / "audit-signing-key.pem"

    @property
    def gate_key(self) -> Path:
        """EC P-256 key the validator signs registered versions with (OMS): never in the
        database; its public half (`gate-signing-key.pub`) is what the registry publishes."""
        return self.config.state_dir / "gate-signing-key.pem"

    @property
    def gate_public_key(self) -> Path:
        return self.config.state_dir / "gate-signing-key.pub"

    @property
    def review_policy(self) -> Path:
        """The registry's auto-approval rules: a copy the operator may edit while it runs."""
        return self.config.state_dir / "review-policy.yaml"

    @property
    def tokens_file(self) -> str:
        return str(self.config.state_dir / "tokens.json")

    def endpoints(self) -> dict[str, str]:
        ports = self.config.ports
        values = {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap,
            # Who a client is comes from service_env (each service) or the per-user variables
            # of kafka_users_env (the env file); these two say how it proves it.
            "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            **self.postgres.endpoints(),
            "S3_ENDPOINT_URL": self.minio.endpoint,
            "S3_ACCESS_KEY": self.creds.minio_user,
            "S3_SECRET_KEY": self.creds.minio_password,
            "S3_REGION": "us-east-1",
            "MODELGATE_S3_BUCKET": "modelgate",
            "MODELGATE_TOKENS_FILE": self.tokens_file,
            "MODELGATE_REVIEW_POLICY": str(self.review_policy),
            "MODELGATE_AUDIT_SIGNING_KEY": str(self.signing_key),
            "MODELGATE_GATE_SIGNING_KEY": str(self.gate_key),
            "MODELGATE_GATE_SIGNING_PUBLIC_KEY": str(self.gate_public_key),
            **self.event_keys.common_env(),
            "REGISTRY_URL": f"http://127.0.0.1:{ports.registry.value}",
            "INGEST_URL": f"http://127.0.0.1:{ports.ingest.value}",
            "AUDIT_URL": f"http://127.0.0.1:{ports.audit.value}",
            "VALIDATOR_URL": f"http://127.0.0.1:{ports.validator.value}",
            # Services export traces to the local Jaeger; its query API finds them again.
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.jaeger.otlp_endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "TRACES_QUERY_URL": self.jaeger.query_url,
            **self.oidc.service_env(),
        }
        values.update(self.creds.tokens)
        return values

    def kafka_users_env(self) -> dict[str, str]:
        """For `.local/stack.env` only: every Kafka user's name and password, as
        MODELGATE_KAFKA_<USER>_USERNAME / _PASSWORD (admin for tools and tests' admin clients,
        `submitter` for external producers, each service's for running one by hand)."""
        values: dict[str, str] = {}
        for user in (KAFKA_ADMIN, *PRINCIPALS):
            values[f"MODELGATE_KAFKA_{user.upper()}_USERNAME"] = user
            values[f"MODELGATE_KAFKA_{user.upper()}_PASSWORD"] = self.creds.kafka_passwords[user]
        return values

    def env_file_values(self) -> dict[str, str]:
        """What `.local/stack.env` holds: the endpoints, the demo producer's signing key and
        every Kafka user and every service's S3 user (the file is 0600; services get only
        their own part of it)."""
        return {
            **self.endpoints(),
            **self.event_keys.user_env(),
            **self.kafka_users_env(),
            **self.minio.users_env(),
            **self.oidc.users_env(),
        }

    def service_env(self, name: str) -> dict[str, str]:
        """What one service is started with: the stack's endpoints, plus the credentials that
        are that service's own (its Kafka principal, database role, S3 user, signing key),
        which never go to another service; MinIO's root never reaches a service."""
        shared = {k: v for k, v in self.endpoints().items() if k not in self.postgres.endpoints()}
        return {
            **shared,
            **self.postgres.service_env(name),
            **self.minio.service_env(name),
            **self.event_keys.service_env(name),
            "KAFKA_SASL_USERNAME": name,
            "KAFKA_SASL_PASSWORD": self.creds.kafka_passwords[name],
            **self.web_env(name),
        }

    def web_env(self, name: str) -> dict[str, str]:
        """The web catalog (served by the registry) reads a version's history from the audit
        service in the browser: the registry tells the page where, the audit service lets
        that one origin read."""
        ports = self.config.ports
        if name == "registry":
            return {"MODELGATE_WEB_AUDIT_URL": f"http://127.0.0.1:{ports.audit.value}"}
        if name == "audit":
            return {"MODELGATE_AUDIT_CORS_ORIGINS": f"http://127.0.0.1:{ports.registry.value}"}
        return {}

    def services(self) -> list[ModelgateService]:
        return [
            ModelgateService(n, self.config, self.procs, self.service_env(n)) for n in SERVICE_NAMES
        ]

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One `up`/`down` at a time (a test session and a shell may race)."""
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        with (self.config.state_dir / "stack.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _write_tokens(self) -> None:
        path = self.config.state_dir / "tokens.json"
        path.write_text(json.dumps(token_file(self.creds.tokens), indent=2))

    def up(self, *, services: bool = True, log: bool = True) -> list[str]:
        """Start whatever is not running; returns what this call started."""
        started: list[str] = []
        # The OIDC provider last: its database is on the PostgreSQL started first.
        infra: list[Component] = [self.postgres, self.kafka, self.minio, self.jaeger, self.oidc]
        progress = Progress(enabled=log)
        with self._locked():
            # Downloads and builds are independent; a cold start waits for the slowest only.
            jobs = [Job(c.name, c.pending(), c.prepare) for c in infra]
            if any(job.doing for job in jobs):
                progress.line(
                    f"first run on this machine: downloads and builds, {FIRST_RUN_ESTIMATE} "
                    "(cached afterwards)"
                )
            # Also when all is cached: it still checks the tools (java) each part runs with.
            progress.parallel(jobs)
            oidc_started = False
            for component in infra:
                if component.ensure_running() or (component is self.oidc and oidc_started):
                    started.append(component.name)
                progress.line(f"{component.name:<10} {component.where()}")
                if component is self.postgres:
                    # Keycloak boots for tens of seconds: from here on, beside the others.
                    oidc_started = self.oidc.start()
            self._write_tokens()
            if not self.signing_key.exists():
                generate_key_file(self.signing_key)
            if not self.gate_key.exists() or not self.gate_public_key.exists():
                generate_gate_key_files(self.gate_key, self.gate_public_key)
            if not self.review_policy.exists():
                policy = resources.files("modelgate_stack.resources") / "review-policy.yaml"
                self.review_policy.write_text(policy.read_text())
            self.event_keys.provision()
            # Before any service: they may create no bucket, and run as these users.
            self.minio.provision()
            self.oidc.provision()
            write_env(self.config.env_file, self.env_file_values())
            if services:
                # A step of its own, as the owner, before any service starts: the services
                # run as roles that could not migrate (nor should).
                with progress.step("applying database migrations", "migrations applied"):
                    self.postgres.migrate()
                for service in self.services():
                    if service.ensure_running():
                        started.append(service.name)
                    progress.line(f"{service.name:<10} {service.where()}")
        return started

    def ensure_jaeger(self) -> Jaeger:
        """Only the trace backend, built and started if needed (for tests and benchmarks)."""
        with self._locked():
            self.jaeger.prepare()
            self.jaeger.ensure_running()
        return self.jaeger

    def _all(self) -> list[Component]:
        return [self.postgres, self.kafka, self.minio, self.jaeger, self.oidc, *self.services()]

    def _stop_order(self) -> list[Component]:
        # Services first (they flush to Kafka and PostgreSQL on the way out), then storage.
        return [
            *reversed(self.services()),
            self.jaeger,
            self.oidc,
            self.minio,
            self.kafka,
            self.postgres,
        ]

    def down(self) -> list[str]:
        stopped = []
        with self._locked():
            for component in self._stop_order():
                if component.stop():
                    stopped.append(component.name)
        return stopped

    def status(self) -> list[StatusLine]:
        lines = []
        for component in self._all():
            managed = self.procs.alive(component.name)
            lines.append(
                StatusLine(component.name, managed.pid if managed else None, component.where())
            )
        return lines
