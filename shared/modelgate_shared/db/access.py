"""What each service's own database role may do in its own schema, and granting exactly that.

The schemas belong to an owner (migrator) role that no running service uses; each service
connects as a role of its own that holds only the privileges its `ServiceSchema` names, on
its own schema. Nothing is granted on another service's schema, on yoyo's bookkeeping tables,
or on the database itself, so a compromised service cannot read or change another's state,
nor alter, disable or drop anything (ALTER, DROP, TRIGGER and TRUNCATE need ownership or
privileges no service role has).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from modelgate_shared.db.pool import Connection, Executor

log = logging.getLogger(__name__)

READ_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
"""Row access to every table of the schema: what a service that owns mutable state needs."""
APPEND_ONLY = ("SELECT", "INSERT")
"""Read and append, nothing else: the audit log."""


@dataclass(frozen=True, kw_only=True)
class ServiceSchema:
    """One service's schema: where its migrations are and what its role may do there."""

    service: str
    schema: str
    migrations: Path
    table_privileges: tuple[str, ...] = READ_WRITE
    sequences: bool = True
    """USAGE and SELECT on the schema's sequences (bigserial ids need nextval)."""

    @property
    def default_role(self) -> str:
        """The role name the local stack and the tests create for this service."""
        return f"modelgate_{self.service}"


def role_of(url: str) -> str | None:
    """The role a PostgreSQL URL logs in as."""
    user = urlsplit(url).username
    return unquote(user) if user else None


async def grant_service_role(conn: Connection, schema: ServiceSchema, role: str) -> None:
    """Bring `role`'s privileges on `schema` to exactly what it names; run as the owner.

    Both now (every existing table and sequence) and later: default privileges give the
    tables and sequences the owner's future migrations create the same grants, and the
    migrate step re-applies this after every run anyway. Privileges the role held before
    (an older, wider policy) are revoked first, in the same transaction, so a service that is
    already running never sees a moment without its grants.
    """
    ident = await conn.fetchval("SELECT quote_ident($1)", schema.schema)
    grantee = await conn.fetchval("SELECT quote_ident($1)", role)
    tables = ", ".join(schema.table_privileges)
    statements = [
        f"REVOKE ALL ON SCHEMA {ident} FROM {grantee}",
        f"GRANT USAGE ON SCHEMA {ident} TO {grantee}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {ident} FROM {grantee}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {ident} FROM {grantee}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {ident} REVOKE ALL ON TABLES FROM {grantee}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {ident} REVOKE ALL ON SEQUENCES FROM {grantee}",
        f"GRANT {tables} ON ALL TABLES IN SCHEMA {ident} TO {grantee}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {ident} GRANT {tables} ON TABLES TO {grantee}",
    ]
    if schema.sequences:
        statements += [
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {ident} TO {grantee}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {ident} "
            f"GRANT USAGE, SELECT ON SEQUENCES TO {grantee}",
        ]
    async with conn.transaction():
        # Two migrate steps at once (replicas given the owner URL) would otherwise collide
        # on the same catalog rows: "tuple concurrently updated".
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('modelgate.grants'))")
        for statement in statements:
            await conn.execute(statement)


async def schema_usable(conn: Executor, schema: ServiceSchema) -> bool:
    """Whether the connected role may use `schema` (false also when it does not exist)."""
    usable = await conn.fetchval(
        "SELECT has_schema_privilege(to_regnamespace($1), 'USAGE')", schema.schema
    )
    return bool(usable)


KEY_SCHEMA = "identity"
KEY_WRITER = "registry"
"""The service that creates and revokes API keys; every other service only reads them."""


async def grant_key_table(conn: Connection, service: str, role: str) -> None:
    """The one exception to "only its own schema": every service's role reads
    `identity.api_keys` (hashes, owners, expiry, revocation: no secret), so each one checks an
    API key itself and sees a revocation at once; the registry's may also add and revoke keys.
    Nothing to grant before the registry's migration created the table: said, because that
    service then refuses every API key until its grants are run again."""
    if not await conn.fetchval("SELECT to_regclass('identity.api_keys') IS NOT NULL"):
        log.warning(
            "%s: identity.api_keys does not exist yet, so %s cannot check API keys; migrate "
            "the registry, then run this service's migration again to grant it",
            service,
            role,
        )
        return
    grantee = await conn.fetchval("SELECT quote_ident($1)", role)
    privileges = "SELECT, INSERT, UPDATE" if service == KEY_WRITER else "SELECT"
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('modelgate.grants'))")
        await conn.execute(f"GRANT USAGE ON SCHEMA {KEY_SCHEMA} TO {grantee}")
        await conn.execute(f"REVOKE ALL ON {KEY_SCHEMA}.api_keys FROM {grantee}")
        await conn.execute(f"GRANT {privileges} ON {KEY_SCHEMA}.api_keys TO {grantee}")
