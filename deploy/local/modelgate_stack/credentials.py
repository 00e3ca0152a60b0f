"""Secrets the stack generates once and keeps in its state directory (mode 0600).

They reach users only through `.local/stack.env`; never through logs or command lines.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from modelgate_shared.auth.demo_tokens import DEMO_USERS, new_tokens, write_private


@dataclass
class Credentials:
    postgres_superuser_password: str
    database_password: str
    audit_database_password: str
    minio_user: str
    minio_password: str
    tokens: dict[str, str]

    @classmethod
    def load_or_create(cls, path: Path) -> Credentials:
        if path.exists():
            data = json.loads(path.read_text())
            creds = cls(**data)
            missing = [k for k in DEMO_USERS if k not in creds.tokens]
            if not missing:
                return creds
            creds.tokens.update({k: v for k, v in new_tokens().items() if k in missing})
        else:
            creds = cls(
                postgres_superuser_password=secrets.token_urlsafe(24),
                database_password=secrets.token_urlsafe(24),
                audit_database_password=secrets.token_urlsafe(24),
                minio_user="modelgate",
                minio_password=secrets.token_urlsafe(24),
                tokens=new_tokens(),
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private(path, json.dumps(asdict(creds), indent=2))
        return creds
