"""Composition root of the ingest service: settings in, a runnable app out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from modelgate_ingest.artifact_store import ArtifactStore
from modelgate_ingest.handlers import StatusHandler
from modelgate_ingest.repository import SubmissionRepository
from modelgate_ingest.routes import router
from modelgate_ingest.schema import SCHEMA
from modelgate_ingest.service import IngestService
from modelgate_ingest.settings import IngestSettings
from modelgate_ingest.upload_routes import router as upload_router
from modelgate_ingest.uploads import UploadService
from modelgate_shared import runtime
from modelgate_shared.bootstrap import build_event_signer, build_verifier
from modelgate_shared.events import REGISTERED, SUBMITTED, TRANSITIONED, VALIDATED
from modelgate_shared.health import Readiness
from modelgate_shared.http_app import create_app
from modelgate_shared.http_guard import MIB, BodyLimits
from modelgate_shared.kafka.broker import create_broker
from modelgate_shared.kafka.publisher import EventPublisher
from modelgate_shared.policy import PolicySettings
from modelgate_shared.telemetry import setup_telemetry
from modelgate_shared.topics import Topics

VERSION = "0.1.0"


def build_app(settings: IngestSettings) -> FastAPI:
    setup_telemetry(settings, version=VERSION)
    readiness = Readiness()
    topics = Topics(prefix=settings.topic_prefix)
    broker = create_broker(settings)
    event_signer = build_event_signer(settings)
    publisher = EventPublisher(broker, topics, source="/modelgate/ingest", signer=event_signer)

    verifier = build_verifier(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            pool = await stack.enter_async_context(
                runtime.postgres(
                    settings.database_url.get_secret_value(),
                    readiness,
                    schema=SCHEMA,
                    owner_url=settings.database_owner_url,
                    api_keys=verifier.api_keys,
                )
            )
            # Every upload carries its SHA-256 for S3 to verify; no second hash for signing.
            s3 = await stack.enter_async_context(
                runtime.s3(settings, readiness, sign_payloads=False)
            )
            repository = SubmissionRepository(pool)
            await stack.enter_async_context(
                runtime.consumer(
                    settings,
                    readiness,
                    publisher,
                    service="ingest",
                    accepts=[SUBMITTED, VALIDATED, REGISTERED, TRANSITIONED],
                    handler=StatusHandler(repository),
                    oidc=verifier.oidc,
                    # A status update is bookkeeping: three spans per submission (a quarter
                    # of its trace) that said only when the status users poll changed.
                    trace_records=False,
                )
            )
            app.state.ingest = ingest = IngestService(
                settings,
                PolicySettings(),
                ArtifactStore(
                    s3,
                    settings.s3_bucket,
                    part_size=settings.part_size,
                    max_file_bytes=settings.max_file_bytes,
                ),
                publisher,
                repository,
            )
            app.state.uploads = uploads = UploadService(ingest)
            await stack.enter_async_context(
                runtime.background(uploads.sweep_forever(), "upload-sweeper")
            )
            yield

    app = create_app(
        title="modelgate-ingest",
        version=VERSION,
        description="Takes submissions (streamed uploads or S3 references), stores artifacts "
        "with SHA-256 checksums and publishes `model.submitted`.",
        verifier=verifier,
        readiness=readiness,
        lifespan=lifespan,
        # A reference submission becomes one event, and events are refused over 1 MiB.
        body_limits=BodyLimits(by_prefix={"/api/v1/submissions": MIB, "/api/v1/uploads": 4 * MIB}),
    )
    app.include_router(router)
    app.include_router(upload_router)
    return app
