"""Per-run isolation on shared infrastructure: own topics, bucket and database.

A `make up` stack may be serving the demo on the same Kafka, PostgreSQL and MinIO while the
tests run; prefixes keep the two from consuming each other's events.
"""

from __future__ import annotations

import json
import secrets
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_fixed

from modelgate_audit.checkpoints import generate_key_file
from modelgate_shared.auth.demo_tokens import DEMO_USERS, new_tokens, token_file
from modelgate_shared.db.access import role_of
from modelgate_shared.db.migrate import SERVICES, migrate
from modelgate_shared.kafka.security import KafkaAccess
from modelgate_shared.s3 import ensure_bucket, s3_client
from modelgate_shared.settings import ServiceSettings
from modelgate_shared.signing import EventSigner
from modelgate_shared.signing.keys import generate_gate_key_files
from modelgate_shared.topics import Topics
from modelgate_stack.event_keys import DEMO_PRODUCER, EventKeys
from modelgate_testkit.infra import Infra
from modelgate_testkit.kafka import provision_topics, revoke_acls
from modelgate_testkit.review import AUTO_APPROVE_ALL, write_policy

PRODUCER = DEMO_PRODUCER
"""Subject of the producer key every run registers; direct submissions name it as submitter."""


@dataclass(frozen=True)
class Namespace:
    run_id: str
    infra: Infra
    database_url: str
    tokens_file: Path
    tokens: dict[str, str]  # role -> clear bearer token of a test user with that role
    signing_key: Path
    event_keys: EventKeys
    """This run's event-signing keys (one per service, a producer's) and trusted-keys file."""

    @property
    def gate_key(self) -> Path:
        """The gate's model-signing key (EC P-256, `generate_gate_key_files`)."""
        return self.tokens_file.parent / "gate-signing-key.pem"

    @property
    def gate_public_key(self) -> Path:
        return self.tokens_file.parent / "gate-signing-key.pub"

    @property
    def signing_policy(self) -> Path:
        """The validator's signing policy (`MODELGATE_SIGNING_POLICY`): empty (no rule, nothing
        required) unless a test writes one."""
        return self.tokens_file.parent / "signing-policy.yaml"

    @property
    def review_policy(self) -> Path:
        """The registry's auto-approval policy (`modelgate_testkit.review`): approves everything
        unless a test swaps it."""
        return self.tokens_file.parent / "review-policy.yaml"

    @property
    def topic_prefix(self) -> str:
        return f"t{self.run_id}."

    @property
    def topics(self) -> Topics:
        return Topics(prefix=self.topic_prefix)

    @property
    def bucket(self) -> str:
        return f"mg-test-{self.run_id}"

    @property
    def pinned_bucket(self) -> str:
        """Where the validator pins what it passed (the services' default, `<bucket>-pinned`)."""
        return f"{self.bucket}-pinned"

    def env(self, service: str | None = None) -> dict[str, str]:
        """What a service started by the tests needs, on top of the infrastructure; with a
        service's name, also that service's own identity (see `identity_env`)."""
        common = {
            **self.infra.env(),
            "DATABASE_URL": self.database_url,
            "MODELGATE_TOPIC_PREFIX": self.topic_prefix,
            "MODELGATE_S3_BUCKET": self.bucket,
            "MODELGATE_ENVIRONMENT": "test",
            "MODELGATE_TOKENS_FILE": str(self.tokens_file),
            "MODELGATE_AUDIT_SIGNING_KEY": str(self.signing_key),
            "MODELGATE_GATE_SIGNING_KEY": str(self.gate_key),
            "MODELGATE_GATE_SIGNING_PUBLIC_KEY": str(self.gate_public_key),
            "MODELGATE_SIGNING_POLICY": str(self.signing_policy),
            "MODELGATE_AUDIT_CHECKPOINT_S": "1",
            "MODELGATE_REVIEW_POLICY": str(self.review_policy),
            **self.event_keys.common_env(),
            **self.oidc_env(),
        }
        return common if service is None else {**common, **self.identity_env(service)}

    def oidc_env(self) -> dict[str, str]:
        """The provider the services trust (none: API keys and the token file only). A key
        the provider rotated in is fetched after 1 s here, not the default 10 s."""
        if self.infra.oidc is None:
            return {}
        return {**self.infra.oidc.settings, "MODELGATE_OIDC_JWKS_MIN_REFRESH_S": "1"}

    def identity_env(self, service: str) -> dict[str, str]:
        """The credentials that are one service's own: each service proves who it is to
        Kafka, PostgreSQL and the other services with its own, never with a shared one."""
        own = self.service_database_url(service)
        return {
            **({"DATABASE_URL": own} if own else {}),
            **self.s3_user_env(service),
            **self.event_keys.service_env(service),
            **self.kafka_user_env(service),
        }

    def s3_user_env(self, service: str) -> dict[str, str]:
        """S3_ACCESS_KEY / S3_SECRET_KEY of `service`'s own S3 user; empty where MinIO has no
        such user (the service then runs as the root of `env()`)."""
        user = self.infra.s3_users.get(service)
        return {} if user is None else {"S3_ACCESS_KEY": user[0], "S3_SECRET_KEY": user[1]}

    def kafka_user_env(self, principal: str) -> dict[str, str]:
        """KAFKA_SASL_USERNAME / _PASSWORD of one principal of the ACL table (a service, or
        `submitter` for a test playing an external producer); empty without authentication."""
        return _kafka_user_env(self.infra.kafka_as(principal))

    def kafka_admin_env(self) -> dict[str, str]:
        """Kafka as the admin, for clients the tests run in-process (their own groups and
        topics, which no service principal may touch)."""
        return _kafka_user_env(self.infra.kafka)

    def service_database_url(self, service: str) -> str | None:
        """`service`'s own role, on this run's database; None where the infrastructure has no
        such role (the service then runs as the owner, DATABASE_URL)."""
        url = self.infra.service_database_urls.get(service)
        return with_database(url, self.database) if url else None

    @property
    def database(self) -> str:
        return urlsplit(self.database_url).path[1:]

    @property
    def producer(self) -> EventSigner:
        """The key of this run's registered external producer (`PRODUCER`): what a test that
        publishes model.submitted straight to Kafka as a legitimate producer signs with."""
        return EventSigner.from_file(self.event_keys.producer_key)

    def service_signer(self, service: str) -> EventSigner:
        """A service's own key, for tests that publish what that service would (or forge it)."""
        return EventSigner.from_file(self.event_keys.service_key(service))

    @property
    def superuser_url(self) -> str | None:
        if not self.infra.superuser_url:
            return None
        return with_database(self.infra.superuser_url, urlsplit(self.database_url).path[1:])

    @property
    def audit_database_url(self) -> str | None:
        return self.service_database_url("audit")

    def auth(self, role: str) -> dict[str, str]:
        """Headers of a request made by the test user holding `role`."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def _kafka_user_env(kafka: KafkaAccess) -> dict[str, str]:
    if not kafka.uses_sasl or kafka.username is None or kafka.password is None:
        return {}
    return {"KAFKA_SASL_USERNAME": kafka.username, "KAFKA_SASL_PASSWORD": kafka.password}


def with_database(url: str, database: str) -> str:
    """`url` with its database replaced (a role's URL, pointed at a run's database)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _write_tokens(directory: Path) -> tuple[Path, dict[str, str]]:
    clear = new_tokens()
    by_role = {role: clear[var] for var, (_, role) in DEMO_USERS.items()}
    path = directory / "tokens.json"
    path.write_text(json.dumps(token_file(clear)))
    return path, by_role


async def create_namespace(infra: Infra, directory: Path) -> Namespace:
    run_id = secrets.token_hex(4)
    tokens_file, tokens = _write_tokens(directory)
    database = f"modelgate_test_{run_id}"
    conn = await asyncpg.connect(infra.database_url)
    try:
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    database_url = with_database(infra.database_url, database)
    # The migration step, as the owner, before any service starts: the services' roles could
    # not migrate. Where the infrastructure has no role for a service, nothing is granted and
    # that service runs as the owner.
    if missing := [s for s in SERVICES if s not in infra.service_database_urls]:
        warnings.warn(
            f"no database role of its own for {', '.join(missing)} in this infrastructure "
            f"({infra.source}): those services run as the owner and the least-privilege "
            "tests skip; set <SERVICE>_DATABASE_URL to test them",
            stacklevel=2,
        )
    await migrate(
        database_url, {s: role_of(infra.service_database_urls.get(s, "")) for s in SERVICES}
    )
    signing_key = directory / "audit-signing-key.pem"
    generate_key_file(signing_key)
    event_keys = EventKeys(directory)
    event_keys.provision()
    namespace = Namespace(run_id, infra, database_url, tokens_file, tokens, signing_key, event_keys)
    write_policy(namespace.review_policy, AUTO_APPROVE_ALL)
    generate_gate_key_files(namespace.gate_key, namespace.gate_public_key)
    namespace.signing_policy.write_text("signers: []\nrules: []\n")
    # The services may create no bucket (their S3 users lack CreateBucket): the run's two are
    # made here as root, the pinned one with Object Lock, which S3 allows only at creation.
    await create_buckets(namespace.env(), namespace.bucket)
    # The services a test starts may not create topics: the run's are there, with their ACLs.
    await provision_topics(infra.kafka, namespace.topics)
    return namespace


async def create_buckets(env: Mapping[str, str], bucket: str) -> None:
    """`bucket` and its pinned twin (with Object Lock), as the credentials of `env` (root)."""
    async with s3_client(ServiceSettings.model_validate(dict(env))) as s3:
        await ensure_bucket(s3, bucket)
        await ensure_bucket(s3, f"{bucket}-pinned", object_lock=True)


async def drop_bucket(env: Mapping[str, str], bucket: str) -> None:
    """Empty and delete a run's bucket (gone already: nothing to do). A development machine's
    MinIO keeps what every run left, and its scanner keeps walking it: after a day of runs,
    163 such buckets (1.5 GB) kept MinIO at 15% of a core while the stack was idle.

    The bucket has Object Lock (the validator's pinned copies are under governance-mode
    retention): every version and delete marker goes, bypassing governance, which the stack's
    root credentials may do."""
    async with s3_client(ServiceSettings.model_validate(dict(env))) as s3:
        try:
            async for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                keys = [
                    {"Key": o["Key"], "VersionId": o["VersionId"]}
                    for o in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
                ]
                if keys:
                    await s3.delete_objects(
                        Bucket=bucket,
                        Delete={"Objects": keys, "Quiet": True},
                        BypassGovernanceRetention=True,
                    )
            await s3.delete_bucket(Bucket=bucket)
        except s3.exceptions.NoSuchBucket:
            return


async def drop_namespace(ns: Namespace) -> None:
    await drop_bucket(ns.env(), ns.bucket)
    await drop_bucket(ns.env(), ns.pinned_bucket)
    conn = await asyncpg.connect(ns.infra.database_url)
    try:
        # FORCE terminates the sessions still connected. A service stopped a moment ago can
        # still have one (its backend has not noticed the closed socket yet), and when it
        # belongs to another role (the audit service's append-only one) PostgreSQL refuses
        # our signal to it: "must be a member of the role whose process is being terminated"
        # (a CI teardown). Such a session ends by itself within moments; try again meanwhile.
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(asyncpg.InsufficientPrivilegeError),
            wait=wait_fixed(0.2),
            stop=stop_after_delay(30),
            reraise=True,
        ):
            with attempt:
                await conn.execute(
                    f'DROP DATABASE IF EXISTS "{urlsplit(ns.database_url).path[1:]}" WITH (FORCE)'
                )
    finally:
        await conn.close()
    await drop_topics(ns.infra.kafka, ns.topic_prefix)


async def drop_topics(kafka: KafkaAccess, prefix: str) -> None:
    """Delete the topics whose names start with a run's prefix, and the ACLs on them and on
    the run's consumer groups."""
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if ours:
            await admin.delete_topics(ours)
    finally:
        await admin.close()
    await revoke_acls(kafka, prefix)
