"""The services' own PostgreSQL roles, as the infrastructure provides them.

The local stack creates them (`make up`) and lists their URLs in `.local/stack.env`
(`<SERVICE>_DATABASE_URL`); services given by the environment bring theirs the same way;
a fresh testcontainers PostgreSQL gets them from `create_roles`. Where none are known, the
services run as the owner and the tests that prove least privilege skip, saying why.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from modelgate_shared.db.migrate import SERVICES, service_schema

OWNER_ROLE = "modelgate"


def service_urls(values: Mapping[str, str]) -> dict[str, str]:
    """`<SERVICE>_DATABASE_URL` of each service that has one."""
    return {s: url for s in SERVICES if (url := values.get(f"{s.upper()}_DATABASE_URL"))}


def _as(url: str, role: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{role}:{password}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


async def _create(superuser_url: str, roles: Mapping[str, tuple[str, str]]) -> None:
    conn = await asyncpg.connect(superuser_url)
    try:
        for role, (password, attributes) in roles.items():
            literal = await conn.fetchval("SELECT quote_literal($1)", password)
            await conn.execute(f"CREATE ROLE {role} {attributes} PASSWORD {literal}")
    finally:
        await conn.close()


def create_roles(superuser_url: str) -> tuple[str, dict[str, str]]:
    """On a PostgreSQL of our own (a fresh container): the owner (migrator) role and each
    service's role, with random passwords; returns the owner's URL and the services' URLs."""
    owner_password = secrets.token_urlsafe(18)
    wanted = {OWNER_ROLE: (owner_password, "LOGIN CREATEDB")}
    urls = {}
    for service in SERVICES:
        role, password = service_schema(service).default_role, secrets.token_urlsafe(18)
        wanted[role] = (password, "LOGIN")
        urls[service] = _as(superuser_url, role, password)
    asyncio.run(_create(superuser_url, wanted))
    return _as(superuser_url, OWNER_ROLE, owner_password), urls
