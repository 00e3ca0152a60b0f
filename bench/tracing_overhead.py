"""Pipeline throughput and latency with tracing off and on, in the same run.

ingest, validator and registry run as separate processes (as in production), in a namespace
and database of their own per run. N small safetensors models are submitted through ingest's
HTTP API by --concurrency clients; a submission is done when the registry has decided it
(REGISTERED). Throughput = N / (last decision - first request); latency = request sent ->
decision (the registry's transaction time, same host clock). A first run, not counted, warms
the infrastructure (the first run after a pause was often the slowest). Then --rounds pairs,
in the order off-on, on-off, off-on … so that neither mode is always the one that runs second
on a machine that drifts; the best run of each mode is compared, and so is each round's pair
(with their median), because one lucky run flatters the best-of; last, the rounds' mean
overhead with its 95% interval, which says whether they settle the 10% target.
CPU per submission (the three services' user+system time over the measured part, plus the
local trace backend's) is printed too; on the 2-core development machine it too varies by
about 10% between identical runs.

With --side-by-side each round runs both modes at once instead, each with its own services,
namespace, database and clients, measured from the same moment. Both then see the same
machine, so its drift cancels out of each round's comparison, and the on/off CPU ratio comes
out steadier (docs/observability.md: What tracing costs). Throughput is then the decisions
up to the moment the first pipeline has decided all its submissions, over that time (see
`side_by_side`). The price is a different load: each pipeline shares the machine with the
other one, so it gets roughly half of it, and its throughput is not a deployment's.

Tracing on = OTLP/HTTP to the trace backend with the SDK's default batching (every span of
every service exported), which on this machine also runs the backend itself (Jaeger).

    uv run python -m bench.tracing_overhead [--submissions 300] [--concurrency 8] [--rounds 2]
        [--side-by-side] [--on-env KEY=VALUE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from bench.harness import (
    ROOT,
    BenchNamespace,
    Interval,
    Service,
    cpu_seconds,
    create_databases,
    database_url,
    drop_databases,
    mean_interval,
    percentiles,
    run_info,
    stack_env,
)
from modelgate_stack.config import StackConfig
from modelgate_stack.stack import Stack
from modelgate_testkit.factories import GOOD_CARD
from modelgate_testkit.models import tiny_safetensors

GATE = ("registry", "validator", "ingest")
TARGET = 0.10
"""The overhead we aim for: tracing costs under 10% of the pipeline's throughput."""


@dataclass
class RunResult:
    mode: str
    submissions: int
    """Decided submissions: CPU per submission and latencies are over these."""
    in_window: int
    """Those decided within the throughput window."""
    seconds: float
    """The throughput window: first request -> last decision counted."""
    latencies_ms: list[float]
    failures: int
    service_cpu_s: float
    backend_cpu_s: float
    cpu_by_service: dict[str, float]
    """Each service's CPU seconds over the measured part."""

    @property
    def cpu_ms(self) -> float:
        """Services' CPU time per submission."""
        return 1000 * self.service_cpu_s / self.submissions if self.submissions else 0.0

    @property
    def backend_cpu_ms(self) -> float:
        return 1000 * self.backend_cpu_s / self.submissions if self.submissions else 0.0

    @property
    def throughput(self) -> float:
        return self.in_window / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        p = percentiles(self.latencies_ms)
        return (
            f"tracing {self.mode:<3}  {self.throughput:7.1f} submissions/s   "
            f"p50 {p['p50']:7.0f} ms   p95 {p['p95']:7.0f} ms   p99 {p['p99']:7.0f} ms   "
            f"CPU {self.cpu_ms:5.1f} ms/submission (+ backend {self.backend_cpu_ms:4.1f})   "
            f"({self.in_window} in {self.seconds:.1f} s, failures {self.failures})\n"
            f"             CPU ms/submission by service: "
            + ", ".join(
                f"{name} {1000 * cpu / max(self.submissions, 1):.2f}"
                for name, cpu in self.cpu_by_service.items()
            )
        )


@dataclass(frozen=True)
class Backend:
    otlp_endpoint: str
    pid: int | None
    """The local Jaeger's process: its CPU time is part of what tracing costs here."""


def trace_backend(env: dict[str, str]) -> Backend:
    """The local stack's Jaeger (started if needed), unless the environment names another
    OTLP endpoint."""
    stack = Stack(StackConfig(root=ROOT))
    given = env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if given and given != stack.jaeger.otlp_endpoint:
        return Backend(given, None)
    stack.ensure_jaeger()
    managed = stack.procs.alive(stack.jaeger.name)
    return Backend(stack.jaeger.otlp_endpoint, managed.pid if managed else None)


def _metadata(name: str) -> str:
    card = GOOD_CARD.model_dump(exclude_none=True)
    return json.dumps({"name": name, "version": "1.0.0", "model_card": card})


async def submit_all(
    ingest: Service,
    ns: BenchNamespace,
    count: int,
    concurrency: int,
    run: str,
    *,
    stop: asyncio.Event | None = None,
) -> tuple[dict[UUID, float], int]:
    """Submit `count` models from `concurrency` clients (fewer once `stop` is set: each client
    then ends after its current request)."""
    model = tiny_safetensors()
    sent: dict[UUID, float] = {}
    failures = 0
    queue = list(range(count))
    async with httpx.AsyncClient(base_url=ingest.url, timeout=60) as client:

        async def worker() -> None:
            nonlocal failures
            while queue and not (stop and stop.is_set()):
                n = queue.pop()
                files: list[tuple[str, tuple[str | None, bytes | str, str]]] = [
                    ("metadata", (None, _metadata(f"bench-{run}-{n:05d}"), "application/json")),
                    ("file", ("model.safetensors", model, "application/octet-stream")),
                ]
                began = time.time()
                answer = await client.post(
                    "/api/v1/submissions", files=files, headers=ns.auth("data-scientist")
                )
                if answer.status_code == 202:
                    sent[UUID(answer.json()["submission_id"])] = began
                else:
                    failures += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sent, failures


async def wait_decided(
    database_url: str, sent: dict[UUID, float], timeout_s: float
) -> dict[UUID, datetime]:
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            rows = await conn.fetch(
                "SELECT submission_id, updated_at FROM registry.versions "
                "WHERE status IN ('REGISTERED', 'REJECTED') AND submission_id = ANY($1::uuid[])",
                list(sent),
            )
            decided = {r["submission_id"]: r["updated_at"] for r in rows}
            if len(decided) >= len(sent) or time.monotonic() > deadline:
                return decided
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


@dataclass
class Pipeline:
    """One mode's services, namespace and database, warmed up and ready to measure."""

    mode: str
    ns: BenchNamespace
    database_url: str
    services: dict[str, Service]


@asynccontextmanager
async def pipeline(
    env: dict[str, str], mode: str, backend: Backend, args: argparse.Namespace
) -> AsyncIterator[Pipeline]:
    """Start ingest, validator and registry with tracing `mode` in a namespace and database of
    their own, warm them up, and remove it all afterwards."""
    run = secrets.token_hex(3)
    database = f"modelgate_bench_{run}"
    await create_databases(env["DATABASE_URL"], database)
    db_url = database_url(env["DATABASE_URL"], database)
    tracing = (
        {
            "OTEL_SDK_DISABLED": "false",
            "OTEL_EXPORTER_OTLP_ENDPOINT": backend.otlp_endpoint,
            **dict(kv.split("=", 1) for kv in args.on_env),
        }
        if mode == "on"
        else {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": ""}
    )
    # A throwaway database: the services run as the owner and migrate it themselves at start.
    owner = {"DATABASE_URL": db_url, "DATABASE_OWNER_URL": db_url}
    ns = BenchNamespace({**env, **owner, **tracing})
    await ns.provision()
    services = {name: Service(name, ns.service_env(name)) for name in GATE}
    try:
        for service in services.values():
            service.start()
        # Warm-up (connection pools, first imports), decided before the clock starts.
        warm, _ = await submit_all(services["ingest"], ns, args.warmup, args.concurrency, "w")
        await wait_decided(db_url, warm, timeout_s=args.timeout)
        yield Pipeline(mode, ns, db_url, services)
    finally:
        for service in services.values():
            if service.proc is not None:  # not all started if one failed to
                service.stop()
        await ns.drop()
        await drop_databases(env["DATABASE_URL"], database)


@dataclass
class Window:
    """CPU seconds of each service (and of the trace backend) at one moment."""

    services: dict[str, float]
    backend: float

    @classmethod
    def now(cls, gate: Pipeline, backend: Backend) -> Window:
        return cls(
            {
                name: cpu_seconds(s.proc.pid)
                for name, s in reversed(gate.services.items())
                if s.proc is not None
            },
            cpu_seconds(backend.pid) if backend.pid else 0.0,
        )


@dataclass
class Outcome:
    """One pipeline's measured part."""

    began: float
    sent: dict[UUID, float]
    """Submission id -> when its request was sent."""
    decided: dict[UUID, datetime]
    failures: int
    before: Window
    after: Window

    @property
    def last(self) -> float:
        return max((t.timestamp() for t in self.decided.values()), default=time.time())


async def measured(
    gate: Pipeline, backend: Backend, args: argparse.Namespace, stop: asyncio.Event | None = None
) -> Outcome:
    """Submit --submissions models (fewer if `stop` is set first), wait until the registry has
    decided them, and read the CPU used meanwhile."""
    before, began = Window.now(gate, backend), time.time()
    sent, failures = await submit_all(
        gate.services["ingest"],
        gate.ns,
        args.submissions,
        args.concurrency,
        gate.ns.run_id,
        stop=stop,
    )
    decided = await wait_decided(gate.database_url, sent, timeout_s=args.timeout)
    return Outcome(began, sent, decided, failures, before, Window.now(gate, backend))


def run_result(gate: Pipeline, outcome: Outcome, *, until: float, with_backend: bool) -> RunResult:
    """Throughput counts the decisions up to `until`; CPU per submission and latencies count
    every decided submission."""
    latencies = [
        (outcome.decided[s].timestamp() - t) * 1000
        for s, t in outcome.sent.items()
        if s in outcome.decided
    ]
    if not latencies:
        raise RuntimeError(
            f"tracing {gate.mode}: no submission was decided ({outcome.failures} refused); "
            "see .local/bench/*.log"
        )
    before, after = outcome.before, outcome.after
    cpu_by_service = {name: after.services[name] - cpu for name, cpu in before.services.items()}
    return RunResult(
        gate.mode,
        len(latencies),
        sum(1 for t in outcome.decided.values() if t.timestamp() <= until),
        until - outcome.began,
        latencies,
        outcome.failures + len(outcome.sent) - len(outcome.decided),
        sum(cpu_by_service.values()),
        after.backend - before.backend if with_backend else 0.0,
        cpu_by_service,
    )


async def one_run(
    env: dict[str, str], mode: str, backend: Backend, args: argparse.Namespace
) -> RunResult:
    async with pipeline(env, mode, backend, args) as gate:
        outcome = await measured(gate, backend, args)
        return run_result(gate, outcome, until=outcome.last, with_backend=True)


async def side_by_side(
    env: dict[str, str], backend: Backend, args: argparse.Namespace, *, on_first: bool
) -> tuple[RunResult, RunResult]:
    """Both modes at once, each with its own services and clients, so that the machine's
    drift hits both alike. They are set up and warmed up one after the other (the traced one
    first if `on_first`: rounds alternate, as the order might favour one) and measured from
    the same moment. When one has decided all its submissions, the other's clients stop
    after their current request and it finishes what it accepted. Throughput counts each
    one's decisions up to the first one's last (later, the other had the machine to itself);
    CPU per submission and latencies count all of each one's."""
    first, second = ("on", "off") if on_first else ("off", "on")
    async with (
        pipeline(env, first, backend, args) as one,
        pipeline(env, second, backend, args) as other,
    ):
        off, on = (other, one) if on_first else (one, other)
        stop = asyncio.Event()
        finished: list[Outcome] = []

        async def measure(gate: Pipeline) -> Outcome:
            outcome = await measured(gate, backend, args, stop)
            stop.set()
            finished.append(outcome)
            return outcome

        async with asyncio.TaskGroup() as group:
            runs = [group.create_task(measure(gate)) for gate in (off, on)]
        until = finished[0].last
        return (
            run_result(off, runs[0].result(), until=until, with_backend=False),
            # The trace backend works for the traced pipeline only.
            run_result(on, runs[1].result(), until=until, with_backend=True),
        )


def verdict(overhead: Interval, rounds: int) -> str:
    """Whether the rounds settle the target: the whole 95% interval of the mean overhead
    below it (met) or above it (missed); otherwise more rounds are needed."""
    if overhead.high < TARGET:
        return "met"
    if overhead.low >= TARGET:
        return "missed"
    return f"not settled by {rounds} round(s)"


def cpu_added(off: RunResult, on: RunResult) -> dict[str, float]:
    """What tracing added to each service's CPU per submission, in ms."""
    return {
        name: 1000 * (on.cpu_by_service[name] / on.submissions - cpu / off.submissions)
        for name, cpu in off.cpu_by_service.items()
    }


async def main(args: argparse.Namespace, env: dict[str, str], backend: Backend) -> dict[str, Any]:
    layout = "side by side" if args.side_by_side else "off/on"
    print(
        f"{args.submissions} submissions per run through ingest -> validator -> registry, "
        f"{args.concurrency} concurrent clients, {args.rounds} round(s) {layout}; "
        f"traces to {backend.otlp_endpoint} {' '.join(args.on_env)}"
    )
    if args.warmup_run:
        warm = await one_run(env, "off", backend, args)
        print(f"(not counted) {warm.line()}", flush=True)
    results: dict[str, list[RunResult]] = {"off": [], "on": []}
    for n in range(args.rounds):
        if args.side_by_side:
            off, on = await side_by_side(env, backend, args, on_first=n % 2 == 1)
            results["off"].append(off)
            results["on"].append(on)
            print(f"{off.line()}\n{on.line()}", flush=True)
            print(f"  round {n + 1}: on/off {on.throughput / off.throughput:.3f}", flush=True)
            continue
        for mode in ("off", "on") if n % 2 == 0 else ("on", "off"):
            result = await one_run(env, mode, backend, args)
            results[mode].append(result)
            print(result.line(), flush=True)
    if not args.side_by_side:
        # Side by side, each round is one comparison; a best run of each would mix rounds.
        best = {mode: max(runs, key=lambda r: r.throughput) for mode, runs in results.items()}
        ratio = best["on"].throughput / best["off"].throughput if best["off"].throughput else 0.0
        p_off, p_on = percentiles(best["off"].latencies_ms), percentiles(best["on"].latencies_ms)
        print("best run of each mode:")
        print("  " + best["off"].line())
        print("  " + best["on"].line())
        print(
            f"throughput ratio on/off: {ratio:.3f} "
            f"(overhead {100 * (1 - ratio):.1f}%; target < {TARGET:.0%})"
        )
        print(f"p50 latency ratio on/off: {p_on['p50'] / p_off['p50']:.3f}")
    # Each round's on run against its off run: what the best runs hide.
    pairs = list(zip(results["off"], results["on"], strict=True))
    rounds = [on.throughput / off.throughput for off, on in pairs]
    median = statistics.median(rounds)
    print(
        "per round on/off: "
        + ", ".join(f"{r:.3f}" for r in rounds)
        + f"; median {median:.3f} (overhead {100 * (1 - median):.1f}%; target < {TARGET:.0%})"
    )
    # The rounds as a sample: how sure the target is, not only where the median fell.
    overhead = mean_interval([1 - r for r in rounds])
    below = sum(1 - r < TARGET for r in rounds)
    interval = (
        f"95% interval {100 * overhead.low:.1f}% to {100 * overhead.high:.1f}%"
        if len(rounds) > 1
        else "no interval from one round"
    )
    print(
        f"overhead per round: mean {100 * overhead.mean:.1f}%, {interval}; "
        f"under {TARGET:.0%} in {below} of {len(rounds)} rounds; "
        f"target < {TARGET:.0%}: {verdict(overhead, len(rounds))}"
    )
    cpu_off = statistics.median(r.cpu_ms for r in results["off"])
    cpu_on = statistics.median(r.cpu_ms for r in results["on"])
    backend_cpu = statistics.median(r.backend_cpu_ms for r in results["on"])
    print(
        f"CPU per submission (median): off {cpu_off:.1f} ms; on {cpu_on:.1f} ms in the services "
        f"(+{100 * (cpu_on / cpu_off - 1):.1f}%) + {backend_cpu:.1f} ms in the trace backend "
        f"(+{100 * (cpu_on + backend_cpu - cpu_off) / cpu_off:.1f}% in all)"
    )
    ratios = [on.cpu_ms / off.cpu_ms for off, on in pairs]
    spread = f", standard deviation {statistics.stdev(ratios):.3f}" if len(ratios) > 1 else ""
    print("CPU on/off per round: " + ", ".join(f"{r:.3f}" for r in ratios) + spread)
    added = [cpu_added(off, on) for off, on in pairs]
    print(
        "CPU added per submission, median of rounds: "
        + ", ".join(
            f"{name} {statistics.median(a[name] for a in added):+.2f} ms" for name in added[0]
        )
    )
    print(f"finished {datetime.now(UTC).isoformat(timespec='seconds')}")
    return {
        "bench": "tracing_overhead",
        "run": run_info(),
        "submissions": args.submissions,
        "concurrency": args.concurrency,
        "side_by_side": args.side_by_side,
        "on_env": args.on_env,
        "runs": {
            mode: [
                {
                    "throughput": r.throughput,
                    "p50_ms": percentiles(r.latencies_ms)["p50"],
                    "p99_ms": percentiles(r.latencies_ms)["p99"],
                    "cpu_ms": r.cpu_ms,
                    "backend_cpu_ms": r.backend_cpu_ms,
                    "failures": r.failures,
                }
                for r in runs
            ]
            for mode, runs in results.items()
        },
        "throughput_on_off_per_round": rounds,
        "cpu_on_off_per_round": ratios,
    }


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=16, help="submissions before the clock")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument(
        "--no-warmup-run",
        dest="warmup_run",
        action="store_false",
        help="skip the first, uncounted run",
    )
    parser.add_argument(
        "--side-by-side",
        action="store_true",
        help="run both modes at once in each round (each with its own services and clients) "
        "instead of one after the other",
    )
    parser.add_argument(
        "--on-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment of the services with tracing on, e.g. "
        "OTEL_TRACES_SAMPLER=parentbased_traceidratio or MODELGATE_TRACE_SQL_MIN_MS=0",
    )
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    # The stack is started (if needed) before the event loop: it runs its own.
    env = stack_env()
    results = asyncio.run(main(args, env, trace_backend(env)))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    cli()
