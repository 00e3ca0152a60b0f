"""The whole gate as four processes in a namespace of its own, driven through ingest's API.

Used by the fault tests (kill a part, bring it back, count) and the pipeline benchmark.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from modelgate_testkit.factories import GOOD_CARD
from modelgate_testkit.infra import Infra
from modelgate_testkit.kafka import provision_topics
from modelgate_testkit.models import tiny_safetensors
from modelgate_testkit.namespace import Namespace, create_namespace, drop_namespace
from modelgate_testkit.services import ServiceProcess

SERVICES = ("registry", "validator", "audit", "ingest")
START_TIMEOUT_S = 180.0
MODEL = tiny_safetensors(seed=99)


@dataclass
class Pipeline:
    ns: Namespace
    replicas: dict[str, list[ServiceProcess]]
    """Each service's running replicas (one each, unless started with more)."""

    @property
    def services(self) -> dict[str, ServiceProcess]:
        """The first replica of each service (the only one, unless started with more)."""
        return {name: running[0] for name, running in self.replicas.items()}

    @property
    def processes(self) -> list[ServiceProcess]:
        return [process for running in self.replicas.values() for process in running]

    @classmethod
    async def start(
        cls,
        infra: Infra,
        directory: Path,
        env: dict[str, str] | None = None,
        replicas: Mapping[str, int] | None = None,
    ) -> Pipeline:
        """`replicas`: how many processes of a service to run (1 for those not named). They
        share the service's settings and consumer groups; each has a port and a log of its own."""
        ns = await create_namespace(infra, directory)
        await provision_topics(ns.infra.kafka, ns.topics)
        pipeline = cls(ns, {})
        for name in SERVICES:
            pipeline.replicas[name] = [
                ServiceProcess(name, {**ns.env(name), **(env or {})}, directory / "logs", replica=r)
                for r in range(1, (replicas or {}).get(name, 1) + 1)
            ]
        try:
            # One after the other: eight processes importing side by side on a loaded
            # two-core machine each took minutes to answer, and a start timeout measures one.
            for process in pipeline.processes:
                await asyncio.to_thread(process.start, timeout_s=START_TIMEOUT_S)
        except BaseException:
            for process in pipeline.processes:  # none may outlive a start that failed
                if process.proc is not None:
                    process.kill()
            await drop_namespace(ns)
            raise
        return pipeline

    async def scale(self, name: str, count: int) -> None:
        """Run `count` replicas of `name` (at least one): new ones get a port and a log of
        their own; those beyond `count` are stopped with SIGTERM, so each leaves its consumer
        groups at once instead of after a session timeout."""
        running = self.replicas[name]
        first = running[0]
        while len(running) < count:
            replica = ServiceProcess(name, dict(first.env), first.log_dir, replica=len(running) + 1)
            running.append(replica.start(wait=False))
        for replica in running[max(count, 1) :]:
            try:
                await asyncio.to_thread(replica.stop)
            except subprocess.TimeoutExpired:  # a starved machine: the group copes either way
                await asyncio.to_thread(replica.kill)
        del running[max(count, 1) :]
        for replica in running:
            await asyncio.to_thread(replica.wait_healthy, START_TIMEOUT_S)

    async def kill_and_restart(self, name: str, down_s: float = 1.0, replica: int = 1) -> None:
        """kill -9 of one replica, a moment of absence, and a fresh process on the same port."""
        service = self.replicas[name][replica - 1]
        await asyncio.to_thread(service.kill)
        await asyncio.sleep(down_s)
        await asyncio.to_thread(service.start, timeout_s=START_TIMEOUT_S)

    async def dump_tasks(self) -> str:
        """Have every live service log what its asyncio tasks await (SIGUSR1); returns where
        the logs are, and each service's last warnings and errors (a CI report shows only
        what the test prints). For a run that stalls without an error."""
        for service in self.processes:
            if service.proc is not None and service.proc.poll() is None:
                service.proc.send_signal(signal.SIGUSR1)
        await asyncio.sleep(1)
        report = [str(self.processes[0].log_dir)]
        for service in self.processes:
            lines = service.log.read_text(errors="replace").splitlines()
            loud = [line for line in lines if '"level": "WARNING"' in line or '"ERROR"' in line]
            report += [f"--- {service.instance}: last of {len(loud)} warnings and errors"]
            report += [line[:400] for line in loud[-25:]]
        return "\n".join(report)

    async def close(self) -> None:
        for service in self.processes:
            if service.proc is not None and service.proc.poll() is None:
                try:
                    await asyncio.to_thread(service.stop)
                except Exception:  # a stuck service must not outlive the test
                    await asyncio.to_thread(service.kill)
        await drop_namespace(self.ns)


@dataclass
class Submitter:
    """Submits `count` models through ingest, each retried (same Idempotency-Key) until 202."""

    pipeline: Pipeline
    count: int
    prefix: str = "fault"
    concurrency: int = 8
    reject_every: int = 10
    """Every n-th submission carries a licence off the allow-list: the gate must reject it."""
    rate_per_s: float | None = None
    accepted: dict[str, str] = field(default_factory=dict)
    """model name -> submission id"""
    submitted_at: dict[str, float] = field(default_factory=dict)
    retries: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    third_accepted: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once a third of the submissions were accepted: the moment faults strike."""

    def name(self, i: int) -> str:
        return f"{self.prefix}-{i:05d}"

    def expected(self) -> dict[str, str]:
        return {
            self.name(i): "REJECTED"
            if self.reject_every and i % self.reject_every == 0
            else "REGISTERED"
            for i in range(self.count)
        }

    async def run(self) -> None:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(self.count):
            queue.put_nowait(i)
        limits = httpx.Limits(max_connections=self.concurrency)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            began = time.monotonic()

            async def worker() -> None:
                while not queue.empty():
                    i = queue.get_nowait()
                    if self.rate_per_s:
                        await asyncio.sleep(
                            max(0.0, began + i / self.rate_per_s - time.monotonic())
                        )
                    await self._submit(client, i)

            await asyncio.gather(*(worker() for _ in range(self.concurrency)))

    async def _submit(self, client: httpx.AsyncClient, i: int) -> None:
        name = self.name(i)
        card = GOOD_CARD.model_dump(exclude_none=True)
        if self.reject_every and i % self.reject_every == 0:
            card["license"] = "wtfpl"
        meta = json.dumps({"name": name, "version": "1.0.0", "model_card": card})
        headers = {**self.pipeline.ns.auth("data-scientist"), "Idempotency-Key": f"{name}-1"}
        delay = 0.1
        self.submitted_at.setdefault(name, time.monotonic())
        # Spread over ingest's replicas as a load balancer would; a retry goes to the next one.
        ingest = self.pipeline.replicas["ingest"]
        attempt = i
        while True:
            attempt += 1
            try:
                answer = await client.post(
                    f"{ingest[attempt % len(ingest)].url}/api/v1/submissions",
                    headers=headers,
                    files=[
                        ("metadata", (None, meta, "application/json")),
                        ("file", ("model.safetensors", MODEL, "application/octet-stream")),
                    ],
                )
                if answer.status_code == 202:
                    self.accepted[name] = answer.json()["submission_id"]
                    if len(self.accepted) >= self.count // 3:
                        self.third_accepted.set()
                    return
                self.errors[f"HTTP {answer.status_code}"] += 1
                if answer.status_code < 500 and answer.status_code != 409:
                    raise AssertionError(f"{name} refused: {answer.status_code} {answer.text}")
            except httpx.HTTPError as exc:
                self.errors[type(exc).__name__] += 1
            self.retries += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


@dataclass
class Approver:
    """An admin working through the review queue, approving what waits, until stopped; a
    registry that is down or restarting is retried, as a person would (with several replicas,
    each round asks the next one, as a load balancer would send it)."""

    pipeline: Pipeline
    approved: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        headers = self.pipeline.ns.auth("admin")
        registries = self.pipeline.replicas["registry"]
        rounds = 0
        async with httpx.AsyncClient(timeout=30) as client:
            while not self.stop.is_set():
                rounds += 1
                url = registries[rounds % len(registries)].url
                try:
                    queue = await client.get(
                        f"{url}/api/v1/review-queue", params={"limit": 100}, headers=headers
                    )
                    if queue.status_code != 200:
                        self.errors[f"queue HTTP {queue.status_code}"] += 1
                    for item in queue.json()["items"] if queue.status_code == 200 else []:
                        answer = await client.post(
                            f"{url}/api/v1/models/{item['model_name']}/versions/"
                            f"{item['version']}/review",
                            json={"decision": "approve", "reason": "fault test: card reviewed"},
                            headers=headers,
                        )
                        if answer.status_code == 200:
                            self.approved += 1
                        else:  # 409: approved by an earlier try whose answer was lost
                            self.errors[f"HTTP {answer.status_code}"] += 1
                except httpx.HTTPError as exc:
                    self.errors[type(exc).__name__] += 1
                await asyncio.sleep(0.2)


@dataclass
class Outcome:
    submitted: int
    registered: int
    rejected: int
    undecided: int
    wrong_verdict: int
    audited: int
    audit_duplicates: int
    missing_audit: int
    chain_ok: bool
    seconds: float

    @property
    def lost(self) -> int:
        return self.undecided + self.missing_audit

    def line(self, label: str) -> str:
        return (
            f"{label}: submitted {self.submitted}, registered {self.registered}, rejected "
            f"{self.rejected}, audited {self.audited} events, duplicates "
            f"{self.audit_duplicates}, lost {self.lost}, wrong verdicts {self.wrong_verdict}, "
            f"chain {'verified' if self.chain_ok else 'BROKEN'} ({self.seconds:.1f}s)"
        )


async def settle(
    pipeline: Pipeline,
    expected: dict[str, str],
    *,
    timeout_s: float = 240,
    started: float | None = None,
    reviewed: bool = False,
) -> Outcome:
    """Wait until every submission is decided and audited (or time runs out), then count.
    Each submission has three events (submitted, validated, registered or rejected), and
    `reviewed` ones that were registered a fourth (the status change to PENDING_REVIEW)."""
    began = started or time.monotonic()
    names = list(expected)
    events = {n: 3 + int(reviewed and expected[n] == "REGISTERED") for n in names}
    deadline = time.monotonic() + timeout_s
    conn = await asyncpg.connect(pipeline.ns.database_url)
    try:
        while True:
            decided = {
                r["name"]: r["status"]
                for r in await conn.fetch(
                    "SELECT m.name, v.status FROM registry.versions v JOIN registry.models m "
                    "ON m.id = v.model_id WHERE m.name = ANY($1::text[]) AND v.status IN "
                    "('REGISTERED', 'REJECTED')",
                    names,
                )
            }
            audited = await conn.fetch(
                "SELECT model, action, event_id FROM audit.log WHERE model = ANY($1::text[])", names
            )
            done = len(decided) == len(names) and len(audited) >= sum(events.values())
            if done or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    per_model = Counter(r["model"] for r in audited)
    actions = Counter((r["model"], r["action"]) for r in audited)
    duplicates = sum(n - 1 for n in actions.values() if n > 1)
    duplicates += len(audited) - len({r["event_id"] for r in audited})
    async with httpx.AsyncClient(base_url=pipeline.services["audit"].url, timeout=300) as client:
        report = (
            await client.get("/api/v1/audit/verify", headers=pipeline.ns.auth("viewer"))
        ).json()
    statuses = Counter(decided.values())
    return Outcome(
        submitted=len(names),
        registered=statuses["REGISTERED"],
        rejected=statuses["REJECTED"],
        undecided=len(names) - len(decided),
        wrong_verdict=sum(1 for n, s in decided.items() if expected[n] != s),
        audited=len(audited),
        audit_duplicates=duplicates,
        missing_audit=sum(max(0, events[n] - per_model[n]) for n in names),
        chain_ok=bool(report.get("ok")),
        seconds=time.monotonic() - began,
    )
