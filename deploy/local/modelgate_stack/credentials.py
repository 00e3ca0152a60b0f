"""Secrets the stack generates once and keeps in its state directory (mode 0600).

They reach users only through `.local/stack.env`; never through logs or command lines.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from modelgate_shared.auth.demo_tokens import DEMO_USERS, new_tokens, write_private
from modelgate_shared.kafka.acls import PRINCIPALS
from modelgate_shared.s3_policies import S3_SERVICES
from modelgate_stack.oidc_realm import OIDC_SECRETS

KAFKA_ADMIN = "admin"
"""The stack's own Kafka super user: provisions topics, users and ACLs; the tests' taps."""
KAFKA_CONTROLLER = "controller"
"""The SASL/PLAIN user of the KRaft controller listener (the broker's link to its controller);
never leaves the state dir and the broker's 0600 config."""
KAFKA_USERS = (KAFKA_ADMIN, KAFKA_CONTROLLER, *PRINCIPALS)

# The services with a database role of their own besides audit (whose password predates these).
DATABASE_SERVICES = ("registry", "ingest", "validator")


@dataclass
class Credentials:
    postgres_superuser_password: str
    database_password: str
    audit_database_password: str
    minio_user: str
    minio_password: str
    tokens: dict[str, str]
    service_database_passwords: dict[str, str] = field(default_factory=dict)
    """Each service's own PostgreSQL role, by service name (audit's is audit_database_password)."""
    kafka_passwords: dict[str, str] = field(default_factory=dict)
    """Kafka user -> password (SCRAM for admin and the principals, PLAIN for the controller)."""
    minio_service_passwords: dict[str, str] = field(default_factory=dict)
    """Each service's own MinIO user (modelgate_shared.s3_policies), by service name; the
    root (minio_user) stays the stack's own, for provisioning, people and the tests' cleanup."""
    oidc_passwords: dict[str, str] = field(default_factory=dict)
    """The identity provider's passwords: its own admin (`keycloak-admin`), its database role
    (`keycloak-database`) and each demo user's, by user name (modelgate_stack.oidc_realm)."""

    @classmethod
    def load_or_create(cls, path: Path) -> Credentials:
        if path.exists():
            data = json.loads(path.read_text())
            creds = cls(**data)
            missing = [k for k in DEMO_USERS if k not in creds.tokens]
            roles_missing = [
                s for s in DATABASE_SERVICES if s not in creds.service_database_passwords
            ]
            users = [u for u in KAFKA_USERS if u not in creds.kafka_passwords]
            s3_missing = [s for s in S3_SERVICES if s not in creds.minio_service_passwords]
            oidc_missing = [u for u in OIDC_SECRETS if u not in creds.oidc_passwords]
            if not (missing or roles_missing or users or s3_missing or oidc_missing):
                return creds
            creds.tokens.update({k: v for k, v in new_tokens().items() if k in missing})
            creds.service_database_passwords.update(
                {s: secrets.token_urlsafe(24) for s in roles_missing}
            )
            # A state dir from before Kafka had users: `up` then says how to re-format Kafka.
            creds.kafka_passwords.update({u: secrets.token_urlsafe(24) for u in users})
            creds.minio_service_passwords.update({s: secrets.token_urlsafe(24) for s in s3_missing})
            creds.oidc_passwords.update({u: secrets.token_urlsafe(18) for u in oidc_missing})
        else:
            creds = cls(
                postgres_superuser_password=secrets.token_urlsafe(24),
                database_password=secrets.token_urlsafe(24),
                audit_database_password=secrets.token_urlsafe(24),
                minio_user="modelgate",
                minio_password=secrets.token_urlsafe(24),
                tokens=new_tokens(),
                service_database_passwords={
                    s: secrets.token_urlsafe(24) for s in DATABASE_SERVICES
                },
                kafka_passwords={u: secrets.token_urlsafe(24) for u in KAFKA_USERS},
                minio_service_passwords={s: secrets.token_urlsafe(24) for s in S3_SERVICES},
                oidc_passwords={u: secrets.token_urlsafe(18) for u in OIDC_SECRETS},
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private(path, json.dumps(asdict(creds), indent=2))
        return creds
