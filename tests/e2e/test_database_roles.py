"""The running services connect to PostgreSQL as their own roles, never as the owner."""

from __future__ import annotations

import asyncpg
import pytest

from modelgate_shared.db.access import role_of
from modelgate_shared.db.migrate import service_schema
from modelgate_testkit.namespace import Namespace
from modelgate_testkit.services import ServiceProcess
from tests.e2e.conftest import GATE
from tests.support.polling import poll

pytestmark = pytest.mark.e2e


async def test_every_service_session_is_its_own_role_and_none_is_the_owner(
    gate: dict[str, ServiceProcess], namespace: Namespace
) -> None:
    missing = [s for s in GATE if namespace.service_database_url(s) is None]
    if missing:
        pytest.skip(f"no roles of their own for {', '.join(missing)} in this infrastructure")
    if namespace.superuser_url is None:
        pytest.skip("no superuser in this infrastructure to see other roles' sessions")
    owner = role_of(namespace.database_url)
    # Only a superuser (or pg_read_all_stats) sees the application name of others' sessions.
    conn = await asyncpg.connect(namespace.superuser_url)
    try:

        async def sessions() -> list[asyncpg.Record]:
            rows: list[asyncpg.Record] = await conn.fetch(
                "SELECT application_name, usename FROM pg_stat_activity "
                "WHERE datname = current_database() AND backend_type = 'client backend' "
                "AND pid <> pg_backend_pid()"
            )
            return rows

        expected = {f"modelgate-{s}" for s in gate} | {"modelgate-registry-relay"}
        rows = await poll(sessions, lambda r: expected <= {x["application_name"] for x in r})
    finally:
        await conn.close()
    seen = {(r["application_name"], r["usename"]) for r in rows}
    assert expected <= {name for name, _ in seen}, seen
    for name, user in seen:
        # Every session on the run's database is one of the services (the test's own excluded).
        assert user != owner, f"{name or 'a session'} connects as the owner {owner}"
        service = name.removeprefix("modelgate-").removesuffix("-relay")
        assert user == service_schema(service).default_role, (name, user)
