"""API keys for machines (CI jobs, the validator's benchmark callbacks): bearer tokens an admin
creates for an owner, with roles and an expiry, revocable at once.

Only the SHA-256 of a key is stored (`identity.api_keys`): keys are 256-bit random values, so
an unsalted hash reveals nothing and allows a lookup by index. Every service checks a key
against that table on every request (no cache), so a revocation, written by the registry, is
refused by every service from the next request on; the table is the only thing of the
registry's that the other services' roles may read (modelgate_shared.db.access).
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime

import asyncpg

from modelgate_shared.auth.rejection import TokenRejected
from modelgate_shared.auth.roles import Principal, Role
from modelgate_shared.auth.tokens import hash_token

log = logging.getLogger(__name__)

PREFIX = "mgk_"
"""Every API key starts with this: a leaked one is recognisable (secret scanners), and a
verifier knows at once that a token is a key, so a refusal can say why."""
KEY_TABLE = "identity.api_keys"


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def looks_like_key(token: str) -> bool:
    return token.startswith(PREFIX)


class ApiKeyVerifier:
    """Looks a key's hash up in PostgreSQL; the pool is given once the service has one."""

    def __init__(self, pool: asyncpg.Pool | None = None) -> None:
        self.pool = pool

    async def verify(self, token: str) -> Principal | None:
        if not looks_like_key(token):
            return None
        if self.pool is None:
            raise TokenRejected("API keys cannot be checked yet: service starting", status=503)
        try:
            row = await self.pool.fetchrow(
                f"SELECT id, owner, roles, expires_at, revoked_at FROM {KEY_TABLE} "  # noqa: S608
                "WHERE sha256 = $1",
                hash_token(token),
            )
        except (asyncpg.UndefinedTableError, asyncpg.InsufficientPrivilegeError) as exc:
            log.error("API keys cannot be read (%s): run the migration step", exc)
            raise TokenRejected("API keys are not available on this service", status=503) from None
        if row is None:
            raise TokenRejected("unknown API key")
        if row["revoked_at"] is not None:
            raise TokenRejected(f"API key {row['id']} was revoked at {_iso(row['revoked_at'])}")
        if row["expires_at"] <= datetime.now(UTC):
            raise TokenRejected(f"API key {row['id']} expired at {_iso(row['expires_at'])}")
        return Principal(row["owner"], frozenset(Role(r) for r in row["roles"]))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")
