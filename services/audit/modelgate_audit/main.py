"""Composition root of the audit service: settings in, a runnable app out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from modelgate_audit import export
from modelgate_audit.appender import AuditLog
from modelgate_audit.checkpoints import Checkpointer, CheckpointStore, Signer
from modelgate_audit.handlers import AuditHandler
from modelgate_audit.routes import router
from modelgate_audit.schema import SCHEMA
from modelgate_audit.settings import AuditSettings
from modelgate_shared import runtime
from modelgate_shared.bootstrap import build_verifier
from modelgate_shared.events import EVENT_TYPES
from modelgate_shared.health import Readiness
from modelgate_shared.http_app import create_app
from modelgate_shared.kafka.broker import create_broker
from modelgate_shared.kafka.publisher import EventPublisher
from modelgate_shared.telemetry import setup_telemetry
from modelgate_shared.topics import Topics

log = logging.getLogger(__name__)


def build_app(settings: AuditSettings) -> FastAPI:
    setup_telemetry(settings, version="0.1.0")
    readiness = Readiness()
    topics = Topics(prefix=settings.topic_prefix)
    broker = create_broker(settings)
    # No event signing key: audit publishes no events, only dead letters (sent as they came)
    # and checkpoints (signed with their own key).
    publisher = EventPublisher(broker, topics, source="/modelgate/audit")
    signer = Signer.from_file(settings.signing_key_file) if settings.signing_key_file else None

    verifier = build_verifier(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            # DATABASE_URL is a role that may only read and append (schema.py); audit.log
            # belongs to the owner (migrator) role, which this service never runs as.
            pool = await stack.enter_async_context(
                runtime.postgres(
                    settings.database_url.get_secret_value(),
                    readiness,
                    schema=SCHEMA,
                    owner_url=settings.database_owner_url,
                    api_keys=verifier.api_keys,
                )
            )
            app.state.pool = pool
            s3 = await stack.enter_async_context(runtime.s3(settings, readiness))
            store = CheckpointStore(s3, settings.s3_bucket, settings.checkpoint_prefix, publisher)
            app.state.signer = signer
            app.state.checkpoints = store if signer else None
            await stack.enter_async_context(
                runtime.consumer(
                    settings,
                    readiness,
                    publisher,
                    service="audit",
                    accepts=list(EVENT_TYPES.values()),
                    handler=AuditHandler(AuditLog(pool), settings.topic_prefix),
                    oidc=verifier.oidc,
                )
            )
            if signer is not None:
                checkpointer = Checkpointer(pool, signer, store, settings.checkpoint_interval_s)
                await stack.enter_async_context(
                    runtime.background(checkpointer.run(), "checkpoints")
                )
            else:
                log.warning("no MODELGATE_AUDIT_SIGNING_KEY: signed checkpoints are off")
            yield

    app = create_app(
        title="modelgate-audit",
        version="0.1.0",
        description="Consumes every model.* event into an append-only, hash-chained log in "
        "PostgreSQL, publishes signed checkpoints, and lets anyone verify the chain.",
        verifier=verifier,
        readiness=readiness,
        lifespan=lifespan,
    )
    if settings.cors_origins:
        # The registry's web catalog reads entries and /verify from its own origin with a
        # bearer token: only the origins named here, only reads, no cookies.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET"],
            allow_headers=["Authorization"],
            allow_credentials=False,
            max_age=600,
        )
    app.include_router(router)
    app.include_router(export.router)
    return app
