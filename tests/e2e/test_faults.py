"""Nothing lost, nothing doubled, whatever fails: real processes, real faults, 500 submissions.

Each scenario runs the four services as processes in a namespace of their own, submits 500
models through ingest's HTTP API (every 10th one must be rejected by policy), breaks one part
of the system a third of the way in, brings it back, and then counts: every submission
registered or rejected exactly once, each of its three events in the audit log exactly once,
and the hash chain verifying.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from modelgate_testkit.namespace import Namespace
from modelgate_testkit.pipeline import Pipeline
from tests.support.faults import kill_kafka, local_stack, restart_postgres, run_scenario

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SUBMISSIONS = int(os.environ.get("MODELGATE_FAULT_SUBMISSIONS", "500"))


@pytest.fixture(autouse=True)
def _quiet_kafka_client(caplog: pytest.LogCaptureFixture) -> None:
    """Breaking Kafka on purpose makes aiokafka log every reconnect attempt; a failure report
    should show the outcome line, not a thousand of those."""
    caplog.set_level(logging.CRITICAL, logger="aiokafka")


@pytest.fixture
async def pipeline(namespace: Namespace, tmp_path: Path) -> AsyncIterator[Pipeline]:
    running = await Pipeline.start(namespace.infra, tmp_path)
    yield running
    await running.close()


@pytest.mark.parametrize("service", ["ingest", "validator", "registry", "audit"])
async def test_kill_9_of_a_service_mid_stream(pipeline: Pipeline, service: str) -> None:
    await run_scenario(
        pipeline, f"kill -9 {service}", lambda: pipeline.kill_and_restart(service), SUBMISSIONS
    )


async def test_kafka_broker_killed_and_restarted(pipeline: Pipeline, namespace: Namespace) -> None:
    stack = local_stack(namespace)
    await run_scenario(pipeline, "kill -9 Kafka broker", lambda: kill_kafka(stack), SUBMISSIONS)


async def test_postgresql_restarted(pipeline: Pipeline, namespace: Namespace) -> None:
    stack = local_stack(namespace)
    await run_scenario(pipeline, "PostgreSQL restart", lambda: restart_postgres(stack), SUBMISSIONS)


async def test_kill_9_of_the_registry_while_an_admin_approves(pipeline: Pipeline) -> None:
    """Manual review under a fault: every version waits for an admin client, who approves
    from the queue while the registry is killed and restarted; each is approved once."""
    await run_scenario(
        pipeline,
        "kill -9 registry, manual approval",
        lambda: pipeline.kill_and_restart("registry"),
        SUBMISSIONS,
        reviewed=True,
    )
