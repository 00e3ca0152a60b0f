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

KAFKA_ADMIN = "admin"
"""The stack's own Kafka super user: provisions topics, users and ACLs; the tests' taps."""
KAFKA_CONTROLLER = "controller"
"""The SASL/PLAIN user of the KRaft controller listener (the broker's link to its controller,
and the way in that creates the admin's SCRAM credentials); never leaves the state dir."""
KAFKA_USERS = (KAFKA_ADMIN, KAFKA_CONTROLLER, *PRINCIPALS)


@dataclass
class Credentials:
    postgres_superuser_password: str
    database_password: str
    audit_database_password: str
    minio_user: str
    minio_password: str
    tokens: dict[str, str]
    kafka_passwords: dict[str, str] = field(default_factory=dict)
    """Kafka user -> password (SCRAM for admin and the principals, PLAIN for the controller)."""

    @classmethod
    def load_or_create(cls, path: Path) -> Credentials:
        if path.exists():
            data = json.loads(path.read_text())
            creds = cls(**data)
            missing = [k for k in DEMO_USERS if k not in creds.tokens]
            users = [u for u in KAFKA_USERS if u not in creds.kafka_passwords]
            if not missing and not users:
                return creds
            creds.tokens.update({k: v for k, v in new_tokens().items() if k in missing})
            # A state dir from before Kafka had users: they are added to its broker at `up`.
            creds.kafka_passwords.update({u: secrets.token_urlsafe(24) for u in users})
        else:
            creds = cls(
                postgres_superuser_password=secrets.token_urlsafe(24),
                database_password=secrets.token_urlsafe(24),
                audit_database_password=secrets.token_urlsafe(24),
                minio_user="modelgate",
                minio_password=secrets.token_urlsafe(24),
                tokens=new_tokens(),
                kafka_passwords={u: secrets.token_urlsafe(24) for u in KAFKA_USERS},
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private(path, json.dumps(asdict(creds), indent=2))
        return creds
