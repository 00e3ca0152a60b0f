"""Composition root of the registry service: settings in, a runnable app out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.middleware import Middleware

from modelgate_registry import errors
from modelgate_registry.api.api_keys import router as api_keys_router
from modelgate_registry.api.hot_reads import HotReads
from modelgate_registry.api.identity import router as identity_router
from modelgate_registry.api.kubeflow.routes import routers as kubeflow_routers
from modelgate_registry.api.kubeflow.service import KubeflowService
from modelgate_registry.api.lifecycle_routes import router as lifecycle_router
from modelgate_registry.api.native import router as native_router
from modelgate_registry.handlers import GateHandler
from modelgate_registry.lifecycle import Policy, Registry
from modelgate_registry.outbox import Outbox
from modelgate_registry.relay import OutboxRelay
from modelgate_registry.review_policy import ReviewPolicy
from modelgate_registry.schema import SCHEMA
from modelgate_registry.settings import RegistrySettings
from modelgate_registry.store.read_connections import ReadConnections
from modelgate_registry.web.routes import WebConfig
from modelgate_registry.web.routes import router as web_router
from modelgate_shared import runtime
from modelgate_shared.bootstrap import build_event_signer, build_verifier
from modelgate_shared.events import SUBMITTED, VALIDATED
from modelgate_shared.health import Readiness
from modelgate_shared.http_app import create_app
from modelgate_shared.http_guard import MIB, BodyLimits
from modelgate_shared.kafka.broker import create_broker
from modelgate_shared.kafka.publisher import EventPublisher
from modelgate_shared.s3_lazy import LazyS3
from modelgate_shared.telemetry import setup_telemetry
from modelgate_shared.topics import Topics

VERSION = "0.1.0"


def build_app(settings: RegistrySettings) -> FastAPI:
    setup_telemetry(settings, version=VERSION)
    readiness = Readiness()
    topics = Topics(prefix=settings.topic_prefix)
    broker = create_broker(settings)
    event_signer = build_event_signer(settings)
    publisher = EventPublisher(broker, topics, source="/modelgate/registry", signer=event_signer)
    database_url = settings.database_url.get_secret_value()
    relay = OutboxRelay(database_url, publisher)

    verifier = build_verifier(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            pool = await stack.enter_async_context(
                runtime.postgres(
                    database_url,
                    readiness,
                    schema=SCHEMA,
                    owner_url=settings.database_owner_url,
                    max_size=settings.pool_size,
                    api_keys=verifier.api_keys,
                )
            )
            app.state.pool = pool
            # Opened on first use: most of the registry's work needs no S3 (`s3_lazy`).
            s3 = LazyS3(settings)
            stack.push_async_callback(s3.close)
            readiness.add("s3", s3.check)
            app.state.s3 = s3
            registry = Registry(
                pool,
                Outbox(topics, signer=event_signer),
                Policy(
                    four_eyes=settings.four_eyes,
                    pinned_bucket=settings.pinned_bucket,
                    review=ReviewPolicy(settings.review_policy),
                ),
            )
            app.state.registry = registry
            reads = ReadConnections(
                database_url, settings.read_connections, application_name="modelgate-registry"
            )
            stack.push_async_callback(reads.close)
            app.state.kubeflow = KubeflowService(
                registry,
                app.state.s3,
                {settings.s3_bucket, *settings.reference_buckets},
                reads=reads,
            )
            await stack.enter_async_context(
                runtime.consumer(
                    settings,
                    readiness,
                    publisher,
                    service="registry",
                    accepts=[SUBMITTED, VALIDATED],
                    handler=GateHandler(registry),
                    oidc=verifier.oidc,
                )
            )
            if settings.outbox_relay:
                await stack.enter_async_context(runtime.background(relay.run(), "outbox-relay"))
            yield

    app = create_app(
        title="modelgate-registry",
        version=VERSION,
        description="The catalog: models and versions through the gate, their lifecycle "
        "(stages, aliases, deployments, archive), the Kubeflow Model Registry API and a web "
        "catalog. Every change is published to Kafka through a transactional outbox.",
        verifier=verifier,
        readiness=readiness,
        lifespan=lifespan,
        # customProperties (up to 128 of up to 16 KiB each) make Kubeflow bodies the largest.
        body_limits=BodyLimits(by_prefix={"/api/model_registry/": MIB}),
    )
    app.add_exception_handler(errors.DomainError, errors.answer_domain_error)
    app.state.web = WebConfig(
        audit_url=settings.web_audit_url,
        oidc_issuer=settings.oidc_issuer,
        oidc_client_id=settings.oidc_client_id,
    )
    app.state.gate_public_key = (
        settings.gate_signing_public_key.read_bytes() if settings.gate_signing_public_key else None
    )
    app.include_router(identity_router)
    app.include_router(api_keys_router)
    app.include_router(native_router)
    app.include_router(lifecycle_router)
    app.include_router(web_router)
    gets: dict[str, APIRoute] = {}
    for kubeflow_router in kubeflow_routers():
        app.include_router(kubeflow_router)
        for route in kubeflow_router.routes:
            if isinstance(route, APIRoute) and "GET" in (route.methods or ()):
                gets[route.path] = route
    # Innermost of the middleware (inside the guard, hygiene and metrics): the hottest reads
    # skip FastAPI's routing and dependencies, the rest goes on to them.
    app.user_middleware.append(Middleware(HotReads, owner=app, routes=gets))
    return app
