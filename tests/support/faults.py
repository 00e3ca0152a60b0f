"""One fault scenario: submit through ingest, strike a third of the way in, count.

Shared by the fault tests with one process per service (tests/e2e/test_faults.py) and with
two (tests/e2e/test_faults_replicas.py). The counts of every scenario a run went through are
kept in `REPORT`, which the end-to-end conftest prints in the test log.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from modelgate_stack.config import StackConfig
from modelgate_stack.errors import StackError
from modelgate_stack.stack import Stack
from modelgate_testkit.infra import ROOT
from modelgate_testkit.namespace import Namespace
from modelgate_testkit.pipeline import Approver, Outcome, Pipeline, Submitter, settle
from modelgate_testkit.review import HUMANS_ONLY, write_policy

REPORT: list[str] = []


def local_stack(namespace: Namespace) -> Stack:
    if namespace.infra.source != "local":
        pytest.skip("killing Kafka or PostgreSQL needs the local stack's processes")
    return Stack(StackConfig(root=ROOT))


async def kill_kafka(stack: Stack) -> None:
    managed = stack.procs.alive("kafka")
    assert managed is not None
    os.kill(managed.pid, signal.SIGKILL)
    await asyncio.sleep(2)
    await _bring_back(stack)


async def restart_postgres(stack: Stack) -> None:
    await asyncio.to_thread(stack.postgres.stop)
    await asyncio.sleep(2)
    await _bring_back(stack)


async def _bring_back(stack: Stack, attempts: int = 5) -> None:
    """`up` again, a few times if need be. A port in the kernel's ephemeral range (32768 and
    up, as a machine running several stacks gives out) can be taken while nothing listens:
    a client reconnecting to it may be handed that very port as its own and connect to
    itself, and the restarted broker then fails to bind (seen with Kafka on 39092)."""
    for attempt in range(1, attempts + 1):
        try:
            await asyncio.to_thread(stack.up, services=False, log=False)
            return
        except StackError:
            if attempt == attempts:
                raise
            await asyncio.sleep(2)


async def run_scenario(
    pipeline: Pipeline,
    label: str,
    fault: Callable[[], Awaitable[None]],
    submissions: int,
    *,
    reviewed: bool = False,
    prefix: str = "fault",
) -> Outcome:
    """`reviewed`: every version waits for an admin, who approves it from the queue while the
    fault strikes; otherwise the run's policy approves everything. `prefix` starts the models'
    names: scenarios that share a pipeline count only their own."""
    submitter = Submitter(pipeline, submissions, prefix=prefix)
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
    assert len(set(submitter.accepted.values())) == submissions, "one submission per model"
    assert outcome.undecided == 0, line
    assert outcome.wrong_verdict == 0, line
    assert outcome.registered + outcome.rejected == submissions, line
    assert outcome.rejected == submissions // 10, line
    assert outcome.audit_duplicates == 0, line
    assert outcome.missing_audit == 0, line
    assert outcome.audited == 3 * submissions + (outcome.registered if reviewed else 0), line
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
