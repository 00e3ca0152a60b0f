"""MinIO unreachable: the validator retries with backoff, then rejects with a clear reason."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from modelgate_shared.events import (
    SUBMITTED,
    ArtifactFile,
    ModelValidated,
    Verdict,
    encode,
    new_event,
)
from modelgate_shared.s3 import ensure_bucket, s3_client
from modelgate_shared.settings import ServiceSettings
from modelgate_shared.topics import Topics
from modelgate_testkit.factories import submitted
from modelgate_testkit.kafka import TopicTap, produce, provision_topics
from modelgate_testkit.models import tiny_safetensors
from modelgate_testkit.namespace import Namespace
from modelgate_testkit.services import ServiceProcess
from tests.support.proxy import CuttableProxy

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
async def proxy(namespace: Namespace) -> AsyncIterator[CuttableProxy]:
    target = urlsplit(namespace.infra.s3_endpoint)
    assert target.hostname is not None
    assert target.port is not None
    running = await CuttableProxy(target.hostname, target.port).start()
    yield running
    await running.stop()


async def test_storage_outage_ends_in_a_rejection_with_the_reason(
    namespace: Namespace, settings: ServiceSettings, proxy: CuttableProxy, tmp_path: Path
) -> None:
    # A validator of its own (own topics) whose S3 traffic goes through the proxy.
    topics = Topics(prefix=f"{namespace.topic_prefix}outage.")
    await provision_topics(namespace.infra.kafka, topics)
    env = {
        **namespace.env("validator"),
        "MODELGATE_TOPIC_PREFIX": topics.prefix,
        "S3_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}",
        "MODELGATE_S3_ATTEMPTS": "4",
        "MODELGATE_S3_BACKOFF_INITIAL_S": "0.2",
        "MODELGATE_S3_BACKOFF_MAX_S": "1",
    }
    # From a thread: the proxy serves on this event loop while the service starts.
    validator = await asyncio.to_thread(ServiceProcess("validator", env, tmp_path).start)
    tap = await TopicTap(namespace.infra.kafka, [topics.validated]).start()
    try:
        data = tiny_safetensors(seed=9)
        key = f"outage/{uuid.uuid4()}/model.safetensors"
        async with s3_client(settings) as s3:
            await ensure_bucket(s3, namespace.bucket)
            await s3.put_object(Bucket=namespace.bucket, Key=key, Body=data)
        sub = submitted(
            "during-outage",
            files=[
                ArtifactFile(
                    path="model.safetensors",
                    uri=f"s3://{namespace.bucket}/{key}",
                    sha256=hashlib.sha256(data).hexdigest(),
                    size=len(data),
                )
            ],
        )

        proxy.sever()
        began = time.monotonic()
        await produce(
            namespace.infra.kafka,
            topics.submitted,
            encode(new_event(SUBMITTED, sub, source="urn:test", subject="d/1.0.0")),
            key=b"during-outage",
            signer=namespace.producer,
        )
        (seen,) = await tap.wait_for(lambda s: s.event is not None, timeout_s=90)
        waited = time.monotonic() - began
        assert seen.event is not None
        verdict = seen.event.data
        assert isinstance(verdict, ModelValidated)
        assert verdict.verdict == Verdict.FAILED
        integrity = next(c for c in verdict.checks if c.name == "integrity")
        assert "S3 unreachable" in integrity.detail
        assert "gave up after 4 attempts" in integrity.detail
        assert waited > 0.5, "it retried with backoff before giving up"

        proxy.restore()
        retry = submitted("after-outage", files=sub.artifact.files)
        await produce(
            namespace.infra.kafka,
            topics.submitted,
            encode(new_event(SUBMITTED, retry, source="urn:test", subject="a/1.0.0")),
            key=b"after-outage",
            signer=namespace.producer,
        )
        await tap.wait_for(lambda s: s.event is not None, count=2, timeout_s=60)
        passed = tap.seen[-1].event
        assert passed is not None
        assert isinstance(passed.data, ModelValidated)
        assert passed.data.verdict == Verdict.PASSED, passed.data.checks
    finally:
        await tap.stop()
        assert await asyncio.to_thread(validator.stop) == 0, validator.tail()
