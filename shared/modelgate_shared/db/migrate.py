"""The migration step: each service's migrations applied as the schema owner, then its role
granted exactly what its `ServiceSchema` names.

It runs before the services start, as a step of its own (`make up`, the test harness, a Helm
hook Job), so no running service needs the owner's credentials:

    DATABASE_OWNER_URL=postgresql://modelgate:…@host/modelgate \
        python -m modelgate_shared.db.migrate [registry ingest validator audit]

The role each service is granted to is `<SERVICE>_DATABASE_ROLE`, else the user of
`<SERVICE>_DATABASE_URL`, else `modelgate_<service>`; it must exist (`--no-grants` skips the
grants, for a one-person setup where every service runs as the owner).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import os
import sys
from collections.abc import Mapping, Sequence

import asyncpg

from modelgate_shared.db.access import (
    KEY_WRITER,
    ServiceSchema,
    grant_key_table,
    grant_service_role,
    role_of,
)
from modelgate_shared.db.migrations import apply_migrations

SERVICES = ("registry", "ingest", "validator", "audit")


class MigrationError(RuntimeError):
    """The step cannot do what it was asked (a role is missing, no owner URL)."""


def service_schema(service: str) -> ServiceSchema:
    """The service's `modelgate_<service>.schema.SCHEMA` (a light module: no service code)."""
    schema = importlib.import_module(f"modelgate_{service}.schema").SCHEMA
    assert isinstance(schema, ServiceSchema)
    return schema


def installed_services() -> list[str]:
    """The services whose packages are installed here (a service's image holds only its own)."""
    return [s for s in SERVICES if importlib.util.find_spec(f"modelgate_{s}") is not None]


def role_for(service: str, env: Mapping[str, str]) -> str:
    prefix = service.upper()
    if role := env.get(f"{prefix}_DATABASE_ROLE"):
        return role
    if (url := env.get(f"{prefix}_DATABASE_URL")) and (role := role_of(url)):
        return role
    return service_schema(service).default_role


async def migrate_service(owner_url: str, schema: ServiceSchema, role: str | None) -> list[str]:
    """Apply `schema`'s pending migrations as the owner and grant `role`; returns the ids
    applied now. No grant when `role` is None or the owner itself."""
    applied = await apply_migrations(owner_url, schema.migrations)
    if role is None or role == role_of(owner_url):
        return applied
    conn = await asyncpg.connect(owner_url)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            raise MigrationError(
                f"role {role!r} (the {schema.service} service's) does not exist: create it "
                "(LOGIN, no other attributes), or run with --no-grants"
            )
        await grant_service_role(conn, schema, role)
        await grant_key_table(conn, schema.service, role)
    finally:
        await conn.close()
    return applied


async def migrate(owner_url: str, roles: Mapping[str, str | None]) -> dict[str, list[str]]:
    """Every named service's migrations and grants, one after another (yoyo ids are global,
    and one lock is held per run anyway); returns the ids applied per service."""
    applied = {}
    # The registry's migrations create the API-key table every other role is granted to read:
    # they go first, whatever order the caller named the services in.
    for service, role in sorted(roles.items(), key=lambda item: item[0] != KEY_WRITER):
        applied[service] = await migrate_service(owner_url, service_schema(service), role)
    return applied


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m modelgate_shared.db.migrate",
        description="Apply the services' migrations as the schema owner and grant each "
        "service's role what it needs.",
    )
    parser.add_argument(
        "services", nargs="*", metavar="SERVICE", help=f"any of {', '.join(SERVICES)}; default: all"
    )
    parser.add_argument(
        "--no-grants", action="store_true", help="only migrate (services run as the owner)"
    )
    args = parser.parse_args(argv)
    if unknown := sorted(set(args.services) - set(SERVICES)):
        parser.error(f"unknown service(s): {', '.join(unknown)}")
    return args


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    owner_url = env.get("DATABASE_OWNER_URL") or env.get("DATABASE_URL")
    if not owner_url:
        print("DATABASE_OWNER_URL (the schema owner's URL) is not set", file=sys.stderr)
        return 2
    services = args.services or installed_services()
    roles = {s: None if args.no_grants else role_for(s, env) for s in services}
    try:
        applied = asyncio.run(migrate(owner_url, roles))
    except MigrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for service, ids in applied.items():
        grantee = roles[service] or "no role"
        print(f"{service}: {len(ids)} migration(s) applied, grants to {grantee}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
