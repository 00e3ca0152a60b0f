"""Least privilege in PostgreSQL: each service's role touches only its own schema, with only
what it needs there, and `audit.log` belongs to an owner no service runs as.

Against the run's database, migrated and granted by the harness exactly as `make up` does.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest
from pydantic import SecretStr

from modelgate_ingest.schema import SCHEMA as INGEST_SCHEMA
from modelgate_shared import runtime
from modelgate_shared.db.access import role_of
from modelgate_shared.db.migrate import SERVICES, migrate, service_schema
from modelgate_shared.health import Readiness
from tests.support.namespace import Namespace, with_database

pytestmark = pytest.mark.integration

# One table of each schema, and a row the schema's own role may write into it.
TABLES = {
    "registry": "registry.refused_submissions",
    "ingest": "ingest.submissions",
    "validator": "validator.validations",
    "audit": "audit.log",
}
INSERTS = {
    "registry": "INSERT INTO registry.refused_submissions (submission_id, reason) "
    "VALUES (gen_random_uuid(), 'role test')",
    "ingest": "INSERT INTO ingest.submissions (submission_id, name, version, submitter, status) "
    "VALUES (gen_random_uuid(), 'role-test', '1.0.0', 'tester', 'pending')",
    "validator": "INSERT INTO validator.validations (event_id, submission_id, "
    "validated_event_id, state) VALUES (gen_random_uuid(), gen_random_uuid(), "
    "gen_random_uuid(), 'running')",
    "audit": "INSERT INTO audit.log (seq, event_id, event_type, topic, action, event_time, "
    "recorded_at, canonical, prev_hash, hash) VALUES (1000000, gen_random_uuid(), 't', 't', "
    "'a', now(), now(), '\\x00', '\\x" + "00" * 32 + "', '\\x" + "00" * 32 + "')",
}


def _role_url(namespace: Namespace, service: str) -> str:
    url = namespace.service_database_url(service)
    if url is None:
        pytest.skip(f"no role of its own for {service} in this infrastructure (see roles.py)")
    return url


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


async def _refused(conn: asyncpg.Connection, statement: str) -> str:
    """Run `statement` in a transaction that is rolled back; returns PostgreSQL's refusal."""
    with pytest.raises(asyncpg.InsufficientPrivilegeError) as refused:
        async with conn.transaction():
            await conn.execute(statement)
    return str(refused.value)


@pytest.mark.parametrize("service", SERVICES)
async def test_each_service_role_reads_and_writes_its_own_schema(
    namespace: Namespace, service: str
) -> None:
    async with connected(_role_url(namespace, service)) as conn:
        assert await conn.fetchval("SELECT current_user") == service_schema(service).default_role
        tx = conn.transaction()
        await tx.start()
        try:
            await conn.execute(INSERTS[service])
            assert await conn.fetchval(f"SELECT count(*) FROM {TABLES[service]}") >= 1
        finally:
            await tx.rollback()


@pytest.mark.parametrize(("service", "other"), list(itertools.permutations(SERVICES, 2)))
async def test_no_service_role_reads_or_writes_another_services_schema(
    namespace: Namespace, service: str, other: str
) -> None:
    async with connected(_role_url(namespace, service)) as conn:
        read = await _refused(conn, f"SELECT count(*) FROM {TABLES[other]}")
        assert f"permission denied for schema {other}" in read
        write = await _refused(conn, INSERTS[other])
        assert f"permission denied for schema {other}" in write


KEY_INSERT = (
    "INSERT INTO identity.api_keys (id, name, owner, roles, sha256, created_by, expires_at) "
    "VALUES (gen_random_uuid(), 'role test', 'ci-bot', '{viewer}', repeat('a', 64), 'tester', "
    "now() + interval '1 day')"
)


@pytest.mark.parametrize("service", SERVICES)
async def test_every_role_reads_the_api_keys_and_only_the_registry_adds_or_revokes(
    namespace: Namespace, service: str
) -> None:
    """The one table outside its own schema a service may read: each checks keys itself."""
    async with connected(_role_url(namespace, service)) as conn:
        assert await conn.fetchval("SELECT count(*) FROM identity.api_keys") >= 0
        if service == "registry":
            tx = conn.transaction()
            await tx.start()
            try:
                await conn.execute(KEY_INSERT)
                await conn.execute(
                    "UPDATE identity.api_keys SET revoked_at = now(), revoked_by = 'x'"
                )
                delete = await _refused(conn, "DELETE FROM identity.api_keys")
                assert "permission denied for table api_keys" in delete
            finally:
                await tx.rollback()
            return
        for statement in (
            KEY_INSERT,
            "UPDATE identity.api_keys SET revoked_at = NULL, revoked_by = NULL",
            "DELETE FROM identity.api_keys",
        ):
            assert "permission denied for table api_keys" in await _refused(conn, statement)


async def test_services_named_before_the_registry_still_read_the_api_keys(
    namespace: Namespace,
) -> None:
    """The key table is the registry's: a migrate run that names the other services first
    must still leave each of them able to check API keys."""
    roles = {s: role_of(_role_url(namespace, s)) for s in ("ingest", "audit", "registry")}
    database = f"{namespace.database}_order"
    async with connected(namespace.database_url) as owner:
        await owner.execute(f'CREATE DATABASE "{database}"')
    try:
        await migrate(with_database(namespace.database_url, database), roles)
        for service in ("ingest", "audit"):
            url = with_database(_role_url(namespace, service), database)
            async with connected(url) as conn:
                assert await conn.fetchval("SELECT count(*) FROM identity.api_keys") == 0
    finally:
        async with connected(namespace.database_url) as owner:
            await owner.execute(f'DROP DATABASE "{database}" WITH (FORCE)')


@pytest.mark.parametrize("service", SERVICES)
async def test_no_service_role_creates_or_drops_anything(
    namespace: Namespace, service: str
) -> None:
    schema = service_schema(service).schema
    async with connected(_role_url(namespace, service)) as conn:
        for statement in (
            f"CREATE TABLE {schema}.planted (id int)",
            "CREATE SCHEMA planted",
            f"DROP TABLE {TABLES[service]}",
            f"ALTER TABLE {TABLES[service]} ADD COLUMN planted int",
        ):
            await _refused(conn, statement)


async def test_the_audit_role_may_not_change_the_log_nor_its_triggers(
    namespace: Namespace,
) -> None:
    async with connected(_role_url(namespace, "audit")) as conn:
        # "permission denied", not the triggers' "append-only": the role never gets that far.
        for statement in (
            "UPDATE audit.log SET actor = 'mallory'",
            "DELETE FROM audit.log",
            "TRUNCATE audit.log",
        ):
            assert "permission denied for table log" in await _refused(conn, statement)
        for statement in (
            "ALTER TABLE audit.log DISABLE TRIGGER log_refuse_update_delete",
            "ALTER TABLE audit.log DISABLE TRIGGER ALL",
            "ALTER TABLE audit.log OWNER TO CURRENT_USER",
            "DROP TRIGGER log_refuse_truncate ON audit.log",
        ):
            refusal = await _refused(conn, statement)
            assert re.search(r"must be owner of (table|relation) log", refusal), refusal


async def test_the_schemas_belong_to_the_owner_that_no_service_runs_as(
    namespace: Namespace,
) -> None:
    service_roles = {role_of(_role_url(namespace, s)) for s in SERVICES}
    async with connected(namespace.database_url) as owner:
        me = await owner.fetchval("SELECT current_user")
        assert me not in service_roles
        owners = await owner.fetch(
            "SELECT DISTINCT nspname, pg_get_userbyid(nspowner) AS owner FROM pg_namespace "
            "WHERE nspname = ANY($1::text[])",
            list(TABLES),
        )
        assert {r["nspname"]: r["owner"] for r in owners} == dict.fromkeys(TABLES, me)
        assert (
            await owner.fetchval(
                "SELECT tableowner FROM pg_tables WHERE tablename = 'log' AND schemaname = 'audit'"
            )
            == me
        )
        # Nobody but the owner holds anything on the log beyond reading and appending.
        grants = await owner.fetch(
            "SELECT grantee, privilege_type FROM information_schema.table_privileges "
            "WHERE table_schema = 'audit' AND table_name = 'log' AND grantee <> $1",
            me,
        )
        assert {(g["grantee"], g["privilege_type"]) for g in grants} == {
            (role_of(_role_url(namespace, "audit")), "SELECT"),
            (role_of(_role_url(namespace, "audit")), "INSERT"),
        }


async def test_tables_of_later_migrations_get_the_grants_too(namespace: Namespace) -> None:
    async with connected(namespace.database_url) as owner:
        await owner.execute("CREATE TABLE registry.later (id bigserial PRIMARY KEY, note text)")
        try:
            async with connected(_role_url(namespace, "registry")) as registry:
                await registry.execute("INSERT INTO registry.later (note) VALUES ('granted')")
                assert await registry.fetchval("SELECT count(*) FROM registry.later") == 1
            async with connected(_role_url(namespace, "ingest")) as ingest:
                await _refused(ingest, "SELECT count(*) FROM registry.later")
        finally:
            await owner.execute("DROP TABLE registry.later")


async def test_the_migrate_step_takes_back_what_it_did_not_grant(namespace: Namespace) -> None:
    registry_url = _role_url(namespace, "registry")
    async with connected(namespace.database_url) as owner:
        await owner.execute(f"GRANT TRUNCATE ON registry.outbox TO {role_of(registry_url)}")
    await migrate(namespace.database_url, {"registry": role_of(registry_url)})
    async with connected(registry_url) as registry:
        await _refused(registry, "TRUNCATE registry.outbox")


@asynccontextmanager
async def _fresh_database(namespace: Namespace) -> AsyncIterator[str]:
    """An empty database beside the run's, owned by the owner; dropped afterwards."""
    name = f"{namespace.database}_{secrets.token_hex(3)}"
    async with connected(namespace.database_url) as owner:
        await owner.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        async with connected(namespace.database_url) as owner:
            await owner.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


async def test_a_service_whose_schema_was_never_migrated_refuses_to_start(
    namespace: Namespace,
) -> None:
    role_url = _role_url(namespace, "ingest")
    async with _fresh_database(namespace) as database:
        with pytest.raises(runtime.SchemaNotReady, match=r"modelgate_shared\.db\.migrate ingest"):
            async with runtime.postgres(
                with_database(role_url, database), Readiness(), schema=INGEST_SCHEMA
            ):
                pass


async def test_given_the_owner_url_a_service_migrates_and_grants_its_role_itself(
    namespace: Namespace,
) -> None:
    role_url = _role_url(namespace, "ingest")
    async with _fresh_database(namespace) as database:
        owner_url = SecretStr(with_database(namespace.database_url, database))
        async with runtime.postgres(
            with_database(role_url, database),
            Readiness(),
            schema=INGEST_SCHEMA,
            owner_url=owner_url,
        ) as pool:
            assert await pool.fetchval("SELECT current_user") == role_of(role_url)
            assert await pool.fetchval("SELECT count(*) FROM ingest.submissions") == 0
