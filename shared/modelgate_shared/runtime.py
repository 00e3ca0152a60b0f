"""Start-up and shut-down of the resources a service holds, as async context managers.

A composition root enters the ones it needs in its lifespan; each registers its readiness
check, so /readyz reports exactly what that service depends on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from faststream.kafka import KafkaBroker
from pydantic import SecretStr

from modelgate_shared.auth.api_keys import ApiKeyVerifier
from modelgate_shared.auth.jwt_verifier import JwtVerifier
from modelgate_shared.bootstrap import build_event_verifier
from modelgate_shared.db.access import ServiceSchema, role_of, schema_usable
from modelgate_shared.db.migrate import migrate_service
from modelgate_shared.db.pool import create_pool, ping
from modelgate_shared.events import EventType
from modelgate_shared.health import Readiness
from modelgate_shared.kafka.admin import ensure_topics
from modelgate_shared.kafka.consumer import ConsumerConfig, EventConsumer, Handler
from modelgate_shared.kafka.dead_letters import DeadLetters
from modelgate_shared.kafka.publisher import EventPublisher
from modelgate_shared.s3 import ensure_bucket, prepared, s3_client
from modelgate_shared.settings import ServiceSettings
from modelgate_shared.topics import Topics

log = logging.getLogger(__name__)


class SchemaNotReady(RuntimeError):
    """The service's schema is missing, or its role was never granted it."""


@asynccontextmanager
async def postgres(
    url: str,
    readiness: Readiness,
    *,
    schema: ServiceSchema | None = None,
    owner_url: SecretStr | None = None,
    max_size: int = 10,
    api_keys: ApiKeyVerifier | None = None,
) -> AsyncIterator[asyncpg.Pool]:
    """A pool on `url`, the service's own role. With `owner_url` (a one-person setup) the
    service first runs the migration step itself: its migrations as the owner, then the
    grants to its role. Without it, the step ran before (`python -m modelgate_shared.db.migrate`)
    and the service only checks that its role may use its schema, so a forgotten step is one
    clear error at start rather than "permission denied" on the first request.

    `api_keys` (the service's API-key verifier) looks keys up in this pool on every request,
    so a revocation counts at once; until the pool is open and once it is closed it answers
    503."""
    if schema is not None and owner_url is not None:
        await migrate_service(owner_url.get_secret_value(), schema, role_of(url))
    name = f"modelgate-{schema.service}" if schema is not None else None
    pool = await create_pool(url, max_size=max_size, application_name=name)
    try:
        if schema is not None and owner_url is None and not await schema_usable(pool, schema):
            raise SchemaNotReady(
                f"schema {schema.schema!r} is missing or role {role_of(url)!r} may not use it: "
                f"run `python -m modelgate_shared.db.migrate {schema.service}` as the schema "
                "owner (DATABASE_OWNER_URL) first, or give this service DATABASE_OWNER_URL"
            )
        readiness.add("postgres", lambda: ping(pool))
        if api_keys is not None:
            api_keys.pool = pool
        yield pool
    finally:
        if api_keys is not None:
            api_keys.pool = None
        await pool.close()


@asynccontextmanager
async def s3(
    settings: ServiceSettings, readiness: Readiness, *, retries: int = 3, sign_payloads: bool = True
) -> AsyncIterator[Any]:
    async with s3_client(settings, retries=retries, sign_payloads=sign_payloads) as untraced:
        client = await prepared(untraced, settings.s3_bucket, when="at start-up")

        async def check() -> None:
            await client.head_bucket(Bucket=settings.s3_bucket)

        readiness.add("s3", check)
        yield client


async def pinned_bucket(client: Any, settings: ServiceSettings) -> None:
    """The validator's pinned-copies bucket, created with Object Lock if it is new."""
    try:
        await ensure_bucket(client, settings.pinned_bucket, object_lock=True)
    except Exception as exc:
        # Start anyway: pinning fails each submission with the reason until S3 is back.
        log.warning("pinned bucket %s not usable at start-up (%s)", settings.pinned_bucket, exc)


@asynccontextmanager
async def kafka(
    broker: KafkaBroker, settings: ServiceSettings, readiness: Readiness
) -> AsyncIterator[KafkaBroker]:
    await ensure_topics(settings.kafka, Topics(prefix=settings.topic_prefix))
    await broker.start()

    async def check() -> None:
        if not await broker.ping(timeout=2):
            raise RuntimeError("Kafka broker does not answer")

    readiness.add("kafka", check)
    try:
        yield broker
    finally:
        await broker.stop()


@asynccontextmanager
async def consumer(
    settings: ServiceSettings,
    readiness: Readiness,
    publisher: EventPublisher,
    *,
    service: str,
    accepts: Sequence[EventType],
    handler: Handler,
    trace_records: bool = True,
    oidc: JwtVerifier | None = None,
) -> AsyncIterator[EventConsumer]:
    """The service's one consumer, running: group `<prefix>modelgate-<service>`, each event
    type in `accepts` read from its topic (any other type there is a dead letter, sent with
    `publisher`, on whose broker the consumer runs), every event's signer proven against the
    trusted keys. Enters `kafka` (topics, broker start) and registers the handler's health as
    "consumer" on /readyz.

    On the way out in-flight batches are drained while the broker still stands, so what is
    done is committed; then the broker stops. `oidc`: the HTTP side's JWT verifier
    (`Verifiers.oidc`), whose key cache proves OIDC-token events too."""
    broker = publisher.broker
    topics = Topics(prefix=settings.topic_prefix)
    group = f"{settings.topic_prefix}modelgate-{service}"
    expect: dict[str, list[EventType]] = {}
    for kind in accepts:
        expect.setdefault(topics.name(kind.topic), []).append(kind)
    running = EventConsumer(
        broker,
        ConsumerConfig(
            group_id=group, topics=list(expect), expect=expect, trace_records=trace_records
        ),
        handler,
        DeadLetters(publisher, group),
        verifier=build_event_verifier(settings, oidc),
    )
    running.attach()
    readiness.add("consumer", running.health.check)
    async with kafka(broker, settings, readiness):
        try:
            yield running
        finally:
            await running.drain()


@asynccontextmanager
async def background(work: Coroutine[Any, Any, None], name: str) -> AsyncIterator[None]:
    """`work` as a task while the service runs (a sweeper, a relay), cancelled on the way out."""
    task = asyncio.create_task(work, name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
