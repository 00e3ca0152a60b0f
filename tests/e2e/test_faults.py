"""Nothing lost, nothing doubled, whatever fails: real processes, real faults, 500 submissions.

Each scenario runs the four services as processes in a namespace of their own, submits 500
models through ingest's HTTP API (every 10th one must be rejected by policy), breaks one part
of the system a third of the way in, brings it back, and then counts: every submission
registered or rejected exactly once, each of its three events in the audit log exactly once,
and the hash chain verifying.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from modelgate_stack.config import StackConfig
from modelgate_stack.stack import Stack
from tests.support.infra import ROOT
from tests.support.namespace import Namespace
from tests.support.pipeline import Approver, Outcome, Pipeline, Submitter, settle
from tests.support.review import HUMANS_ONLY, write_policy

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SUBMISSIONS = int(os.environ.get("MODELGATE_FAULT_SUBMISSIONS", "500"))
REPORT: list[str] = []


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


def _local_stack(namespace: Namespace) -> Stack:
    if namespace.infra.source != "local":
        pytest.skip("killing Kafka or PostgreSQL needs the local stack's processes")
    return Stack(StackConfig(root=ROOT))


async def _kill_kafka(stack: Stack) -> None:
    managed = stack.procs.alive("kafka")
    assert managed is not None
    os.kill(managed.pid, signal.SIGKILL)
    await asyncio.sleep(2)
    await asyncio.to_thread(stack.up, services=False, log=False)


async def _restart_postgres(stack: Stack) -> None:
    await asyncio.to_thread(stack.postgres.stop)
    await asyncio.sleep(2)
    await asyncio.to_thread(stack.up, services=False, log=False)


async def _run(
    pipeline: Pipeline,
    label: str,
    fault: Callable[[], Awaitable[None]],
    *,
    reviewed: bool = False,
) -> Outcome:
    """`reviewed`: every version waits for an admin, who approves it from the queue while the
    fault strikes; otherwise the run's policy approves everything."""
    submitter = Submitter(pipeline, SUBMISSIONS)
    approver = Approver(pipeline)
    approving = None
    if reviewed:
        write_policy(pipeline.ns.review_policy, HUMANS_ONLY)
        approving = asyncio.create_task(approver.run())
    loop = asyncio.get_running_loop()
    began = loop.time()
    submitting = asyncio.create_task(submitter.run())
    third = asyncio.create_task(submitter.third_accepted.wait())
    await asyncio.wait([submitting, third], return_when=asyncio.FIRST_COMPLETED)
    third.cancel()
    await fault()
    await submitting
    outcome = await settle(pipeline, submitter.expected(), reviewed=reviewed)
    if approving is not None:
        approver.stop.set()
        await approving
    if outcome.lost:
        print(f"stalled: task dumps in the service logs under {await pipeline.dump_tasks()}")
    line = outcome.line(label) + (
        f"; client retries {submitter.retries} {dict(submitter.errors)}"
        if submitter.retries
        else ""
    )
    if reviewed:
        line += f"; approved by an admin {approver.approved} {dict(approver.errors)}"
    REPORT.append(line)
    print(line)
    assert len(set(submitter.accepted.values())) == SUBMISSIONS, "one submission per model"
    assert outcome.undecided == 0, line
    assert outcome.wrong_verdict == 0, line
    assert outcome.registered + outcome.rejected == SUBMISSIONS, line
    assert outcome.rejected == SUBMISSIONS // 10, line
    assert outcome.audit_duplicates == 0, line
    assert outcome.missing_audit == 0, line
    assert outcome.audited == 3 * SUBMISSIONS + (outcome.registered if reviewed else 0), line
    if reviewed:
        # Counted in the database: an approval whose answer a kill swallowed still counts.
        conn = await asyncpg.connect(pipeline.ns.database_url)
        try:
            by_admin = await conn.fetchval(
                "SELECT count(*) FROM registry.versions WHERE status = 'REGISTERED' "
                "AND review->>'by' = 'ai-admin'"
            )
        finally:
            await conn.close()
        assert by_admin == outcome.registered, line
    assert outcome.chain_ok, line
    assert began < loop.time()
    return outcome


@pytest.mark.parametrize("service", ["ingest", "validator", "registry", "audit"])
async def test_kill_9_of_a_service_mid_stream(pipeline: Pipeline, service: str) -> None:
    await _run(pipeline, f"kill -9 {service}", lambda: pipeline.kill_and_restart(service))


async def test_kafka_broker_killed_and_restarted(pipeline: Pipeline, namespace: Namespace) -> None:
    stack = _local_stack(namespace)
    await _run(pipeline, "kill -9 Kafka broker", lambda: _kill_kafka(stack))


async def test_postgresql_restarted(pipeline: Pipeline, namespace: Namespace) -> None:
    stack = _local_stack(namespace)
    await _run(pipeline, "PostgreSQL restart", lambda: _restart_postgres(stack))


async def test_kill_9_of_the_registry_while_an_admin_approves(pipeline: Pipeline) -> None:
    """Manual review under a fault: every version waits for an admin client, who approves
    from the queue while the registry is killed and restarted; each is approved once."""
    await _run(
        pipeline,
        "kill -9 registry, manual approval",
        lambda: pipeline.kill_and_restart("registry"),
        reviewed=True,
    )
