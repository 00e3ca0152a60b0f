"""Two replicas of every service, the same faults: nothing lost, nothing doubled, one relay.

Two processes of each of the four services run for the whole module (same consumer groups,
a port and a log each, submissions spread over both ingests; one pipeline, because starting
eight processes costs more than a scenario on a small machine). Each scenario submits 300
models of its own through ingest's API (every 10th one must be rejected by policy) and, a
third of the way in, kills -9 one
replica of a service (the registry's: the one whose outbox relay is active), kills and
restarts Kafka, or restarts PostgreSQL. A killed replica stays away for a few seconds and
comes back: its partitions move to the survivor and back again, each time with batches in
flight. Then the counts of tests/e2e/test_faults.py (every submission decided once, its three
events audited once, one hash chain that verifies), and the outbox relay's terms from the
registries' logs: never two at once, one relaying at the end, and after a kill of the active
one, the other took over.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from modelgate_stack.stack import Stack
from tests.support.faults import kill_kafka, local_stack, restart_postgres, run_scenario
from tests.support.namespace import Namespace
from tests.support.pipeline import SERVICES, START_TIMEOUT_S, Pipeline
from tests.support.polling import poll
from tests.support.relay_terms import Term, overlapping, terms

# The first scenario also starts the module's eight processes: on a loaded two-core machine
# that alone took 7 minutes, and restarting Kafka 1.5 more.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(1500)]


SUBMISSIONS = int(os.environ.get("MODELGATE_REPLICA_FAULT_SUBMISSIONS", "300"))
DOWN_S = 3.0
"""How long a killed replica stays away: its partitions go to the survivor once Kafka sees
the member gone (a session timeout, 10 s) or a rejoin forces a rebalance, whichever comes
first; the relay's standby retries its lock every 2 s."""


@pytest.fixture(autouse=True)
def _quiet_kafka_client(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="aiokafka")


@pytest.fixture(scope="module")
async def pipeline(
    namespace: Namespace, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Pipeline]:
    directory = tmp_path_factory.mktemp("replicas")
    running = await Pipeline.start(namespace.infra, directory, replicas=dict.fromkeys(SERVICES, 2))
    yield running
    await running.close()


async def relay_flags(pipeline: Pipeline) -> list[bool | None]:
    """Each registry replica's `modelgate_outbox_relay_active` (None: it did not answer)."""
    flags: list[bool | None] = []
    async with httpx.AsyncClient(timeout=5) as client:
        for replica in pipeline.replicas["registry"]:
            try:
                answer = await client.get(
                    f"{replica.url}/metrics", headers=pipeline.ns.auth("viewer")
                )
            except httpx.HTTPError:
                flags.append(None)
                continue
            flags.append(
                any(
                    line.split()[-1] == "1.0"
                    for line in answer.text.splitlines()
                    if line.startswith("modelgate_outbox_relay_active ")
                )
            )
    return flags


async def one_relays(pipeline: Pipeline) -> list[bool | None]:
    flags = await poll(lambda: relay_flags(pipeline), lambda f: f.count(True) == 1)
    assert flags.count(True) == 1, f"relay flags of the registry replicas: {flags}"
    return flags


async def kill_the_active_relay(pipeline: Pipeline) -> None:
    """kill -9 of the registry replica whose relay is active; the other must take over
    while it is away, then it comes back as the standby."""
    flags = await one_relays(pipeline)
    active = flags.index(True)
    victim = pipeline.replicas["registry"][active]
    await asyncio.to_thread(victim.kill)
    others = await poll(lambda: relay_flags(pipeline), lambda f: f.count(True) == 1)
    assert others[active] is None, others
    assert others.count(True) == 1, f"no replica took the relay over: {others}"
    await asyncio.sleep(DOWN_S)
    await asyncio.to_thread(victim.start, timeout_s=START_TIMEOUT_S)


async def check_relay_terms(pipeline: Pipeline) -> list[Term]:
    """Never two relays at once, one at the end, and one relaying now."""
    found = terms(pipeline.replicas["registry"])
    report = "; ".join(map(str, found))
    assert not overlapping(found), f"two outbox relays at once: {report}"
    assert [t.ended for t in found].count(None) == 1, f"not one relay at the end: {report}"
    await one_relays(pipeline)
    return found


@pytest.mark.parametrize("service", SERVICES)
async def test_kill_9_of_one_replica_mid_stream(pipeline: Pipeline, service: str) -> None:
    def fault() -> Awaitable[None]:
        if service == "registry":
            return kill_the_active_relay(pipeline)
        return pipeline.kill_and_restart(service, down_s=DOWN_S)

    await run_scenario(
        pipeline, f"2 replicas, kill -9 one {service}", fault, SUBMISSIONS, prefix=f"kill-{service}"
    )
    found = await check_relay_terms(pipeline)
    if service == "registry":
        killed_at, victim = max(
            (at, r.instance) for r in pipeline.replicas["registry"] for at in r.killed_at.values()
        )
        assert any(t.instance != victim and t.began > killed_at for t in found), found


INFRA_FAULTS: dict[str, tuple[str, Callable[[Stack], Awaitable[None]]]] = {
    "kafka": ("2 replicas, kill -9 Kafka", kill_kafka),
    "postgres": ("2 replicas, PostgreSQL restart", restart_postgres),
}


# Not named "infra": a parameter of that name would shadow the session's infra fixture.
@pytest.mark.parametrize("component", INFRA_FAULTS)
async def test_infrastructure_fault(
    pipeline: Pipeline, namespace: Namespace, component: str
) -> None:
    """Kafka killed and restarted, or PostgreSQL restarted, under both replicas."""
    scenario, fault = INFRA_FAULTS[component]
    stack = local_stack(namespace)
    await run_scenario(pipeline, scenario, lambda: fault(stack), SUBMISSIONS, prefix=component)
    await check_relay_terms(pipeline)
