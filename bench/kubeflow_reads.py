"""Kubeflow Model Registry reads: our registry against the upstream Go server, side by side.

Both are seeded through the API with the same data (--models registered models × --per-model
versions, default 100 × 20 = 2,000, each with the same description, author and custom
properties), then read, the two servers alternating, --rounds times at concurrency 1 and 16:
  version-by-id   GET …/model_versions/{id}                        a random version
  model-versions  GET …/registered_models/{id}/versions?pageSize=50  a random model's versions
  model-list      GET …/registered_models?pageSize=100
Both serve /api/model_registry/v1alpha3; ours is read as a data scientist (bearer token), the
upstream server has no authentication. Per run: requests/s, p50/p99, and the CPU each request
cost the server process and its PostgreSQL (postmaster and backends, exited ones included);
per round, ours ÷ upstream's requests/s; at the end the medians and both servers' peak RSS.

The upstream server is built on first use into ~/.cache/modelgate/kubeflow-upstream (minutes;
Go, Java 17 and the network to the Go module proxy and PyPI); never in CI.

    uv run python -m bench.kubeflow_reads                       # 3 rounds of 10 s
    uv run python -m bench.kubeflow_reads --rounds 1 --seconds 5 --json
    uv run python -m bench.kubeflow_reads --ours-only            # profile our side alone
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp
import psutil

from bench.harness import (
    ROOT,
    BenchNamespace,
    Service,
    cpu_seconds,
    create_databases,
    database_url,
    drop_databases,
    infra_pids,
    peak_rss_mib,
    percentiles,
    run_info,
    stack_env,
)
from bench.kubeflow_upstream import VERSION, Upstream
from bench.load import run_load

API = "/api/model_registry/v1alpha3"
WORKLOADS = ("version-by-id", "model-versions", "model-list")


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _string(value: str) -> dict[str, str]:
    return {"metadataType": "MetadataStringValue", "string_value": value}


@dataclass
class Seeded:
    model_ids: list[str]
    version_ids: list[str]


async def seed(base: str, headers: dict[str, str], models: int, per_model: int) -> Seeded:
    """The same models and versions on either server, through its Kubeflow API."""
    seeded = Seeded([], [])
    async with aiohttp.ClientSession(
        headers=headers, connector=aiohttp.TCPConnector(limit=8)
    ) as session:

        async def post(path: str, body: dict[str, Any]) -> str:
            async with session.post(f"{base}{path}", json=body) as answer:
                if answer.status not in (200, 201):
                    raise RuntimeError(f"POST {path}: {answer.status} {await answer.text()}")
                created: dict[str, Any] = await answer.json()
                return str(created["id"])

        async def model(m: int) -> None:
            model_id = await post(
                "/registered_models",
                {
                    "name": f"bench-model-{m:04d}",
                    "description": "benchmark model",
                    "owner": "bench",
                    "customProperties": {"team": _string("bench")},
                },
            )
            seeded.model_ids.append(model_id)
            for v in range(per_model):
                seeded.version_ids.append(
                    await post(
                        f"/registered_models/{model_id}/versions",
                        {
                            "name": f"1.{v}.0",
                            "registeredModelId": model_id,  # upstream wants it in the body too
                            "description": "benchmark version",
                            "author": "ai-scientist",
                            "customProperties": {
                                "framework": _string("pytorch"),
                                "accuracy": {
                                    "metadataType": "MetadataDoubleValue",
                                    "double_value": 0.91,
                                },
                            },
                        },
                    )
                )

        limit = asyncio.Semaphore(8)

        async def bounded(m: int) -> None:
            async with limit:
                await model(m)

        await asyncio.gather(*(bounded(m) for m in range(models)))
    return seeded


def pg_cpu_seconds(postmaster: int) -> float:
    """CPU of a PostgreSQL cluster so far: the postmaster, its exited children (reaped, so in
    its children times) and its live ones (backends, background workers)."""
    root = psutil.Process(postmaster)
    own = root.cpu_times()
    total = own.user + own.system + own.children_user + own.children_system
    for child in root.children():
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue  # exited while we looked
        total += times.user + times.system
    return total


def sys_seconds(pid: int) -> float:
    """System CPU time the process has used so far."""
    return float(psutil.Process(pid).cpu_times().system)


@dataclass
class Run:
    workload: str
    server: str
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    failures: int
    server_cpu_ms: float
    """Server process CPU per request."""
    server_sys_ms: float
    """The part of it spent in the kernel (system calls: sockets, epoll)."""
    postgres_cpu_ms: float
    """Its PostgreSQL's CPU per request (ours: the stack's cluster, shared with its idle
    services)."""

    def line(self) -> str:
        return (
            f"{self.workload:<15} {self.server:<9} c={self.concurrency:<2} "
            f"{self.rps:8.1f} req/s  p50 {self.p50_ms:7.2f} ms  p99 {self.p99_ms:7.2f} ms  "
            f"CPU/req server {self.server_cpu_ms:5.2f} ms ({self.server_sys_ms:4.2f} in the "
            f"kernel) + PostgreSQL "
            f"{self.postgres_cpu_ms:5.2f} ms  failures {self.failures}"
        )


@dataclass
class Target:
    name: str
    pid: int
    postmaster: int
    urls: dict[str, Callable[[], str]]
    headers: dict[str, str]


async def measure(
    target: Target, workload: str, concurrency: int, seconds: float, warmup_s: float
) -> Run:
    # CPU is sampled around the whole run, warm-up included, and divided by every request
    # answered in it; the load generator's own counts exclude the warm-up, so scale.
    cpu0, pg0 = cpu_seconds(target.pid), pg_cpu_seconds(target.postmaster)
    sys0 = sys_seconds(target.pid)
    began = time.perf_counter()
    result = await run_load(
        target.urls[workload],
        concurrency=concurrency,
        seconds=seconds,
        warmup_s=warmup_s,
        headers=target.headers,
    )
    elapsed = time.perf_counter() - began
    cpu, pg = cpu_seconds(target.pid) - cpu0, pg_cpu_seconds(target.postmaster) - pg0
    kernel = sys_seconds(target.pid) - sys0
    answered = max(1.0, (result.requests + result.failures) * elapsed / seconds)
    p = percentiles(result.latencies_ms)
    return Run(
        workload,
        target.name,
        concurrency,
        result.rps,
        p["p50"],
        p["p99"],
        result.failures,
        cpu * 1000 / answered,
        kernel * 1000 / answered,
        pg * 1000 / answered,
    )


def _urls(base: str, seeded: Seeded, rng: random.Random) -> dict[str, Callable[[], str]]:
    return {
        "version-by-id": lambda: f"{base}/model_versions/{rng.choice(seeded.version_ids)}",
        "model-versions": lambda: (
            f"{base}/registered_models/{rng.choice(seeded.model_ids)}/versions?pageSize=50"
        ),
        "model-list": lambda: f"{base}/registered_models?pageSize=100",
    }


def rss_mib(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / (1 << 20)


def cli() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--per-model", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10, help="measured time of each run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured start of each run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of both servers")
    parser.add_argument(
        "--concurrency", type=lambda s: [int(c) for c in s.split(",")], default=[1, 16]
    )
    parser.add_argument("--workloads", type=lambda s: s.split(","), default=list(WORKLOADS))
    parser.add_argument("--ours-only", action="store_true", help="no upstream server (profiling)")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args()
    report = asyncio.run(main(args, stack_env()))
    if args.json:
        print(json.dumps(report, indent=2))


async def main(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    load_at_start = os.getloadavg()
    ns = BenchNamespace(env)
    admin_url = env["DATABASE_URL"]
    database = f"bench_kubeflow_{ns.run_id}"
    await create_databases(admin_url, database)
    ours_url = database_url(admin_url, database)
    await ns.provision()
    registry = Service(
        "registry",
        {**ns.service_env("registry"), "DATABASE_URL": ours_url, "DATABASE_OWNER_URL": ours_url},
    )
    upstream = None if args.ours_only else Upstream(ROOT / ".local" / "bench")
    try:
        if upstream is not None:
            progress(f"starting the upstream server {VERSION} (built on first use)")
            await asyncio.to_thread(upstream.start)
        progress("starting our registry")
        # A loaded shared machine can take minutes to import and start it.
        registry.start(wait=False)
        try:
            registry.wait_healthy(timeout_s=300)
        except BaseException:
            registry.kill()
            raise
        assert registry.proc is not None
        started_rss = rss_mib(registry.proc.pid)
        auth = ns.auth("data-scientist")
        rng = random.Random(7)
        targets: list[Target] = []
        ours_postmaster = infra_pids().get("postgres")
        if ours_postmaster is None:
            raise RuntimeError("no local-stack PostgreSQL to measure (run against `make up`)")
        began = time.monotonic()
        seeded = await seed(f"{registry.url}{API}", auth, args.models, args.per_model)
        seeded_rss = rss_mib(registry.proc.pid)
        progress(
            f"seeded ours with {len(seeded.version_ids)} versions in "
            f"{time.monotonic() - began:.1f}s (RSS {rss_mib(registry.proc.pid):.1f} MiB, "
            f"{started_rss:.1f} at start)"
        )
        targets.append(
            Target(
                "modelgate",
                registry.proc.pid,
                ours_postmaster,
                _urls(f"{registry.url}{API}", seeded, rng),
                auth,
            )
        )
        if upstream is not None:
            assert upstream.server is not None
            assert upstream.postgres is not None
            began = time.monotonic()
            theirs = await seed(upstream.base, {}, args.models, args.per_model)
            progress(
                f"seeded upstream with {len(theirs.version_ids)} versions in "
                f"{time.monotonic() - began:.1f}s"
            )
            targets.append(
                Target(
                    "upstream",
                    upstream.server.pid,
                    upstream.postgres.pid,
                    _urls(upstream.base, theirs, rng),
                    {},
                )
            )
        runs: list[Run] = []
        for round_no in range(args.rounds):
            # The order flips every round, so neither server always runs first.
            order = targets if round_no % 2 == 0 else targets[::-1]
            for workload in args.workloads:
                for concurrency in args.concurrency:
                    for target in order:
                        run = await measure(
                            target, workload, concurrency, args.seconds, args.warmup
                        )
                        runs.append(run)
                        progress(f"round {round_no + 1}/{args.rounds} {run.line()}")
        report = summarise(args, runs, registry.proc.pid, upstream)
        report["conditions"]["loadavg_at_start"] = load_at_start
        report["rss_mib"]["modelgate_at_start"] = started_rss
        report["rss_mib"]["modelgate_after_seeding"] = seeded_rss
        if not args.json:
            print_report(report)
        return report
    finally:
        registry.stop()
        if upstream is not None:
            upstream.stop()
        await ns.drop()
        await drop_databases(admin_url, database)


def summarise(
    args: argparse.Namespace, runs: list[Run], ours_pid: int, upstream: Upstream | None
) -> dict[str, Any]:
    comparisons = []
    for workload in args.workloads:
        for concurrency in args.concurrency:
            ours = [
                r
                for r in runs
                if (r.workload, r.server, r.concurrency) == (workload, "modelgate", concurrency)
            ]
            theirs = [
                r
                for r in runs
                if (r.workload, r.server, r.concurrency) == (workload, "upstream", concurrency)
            ]
            entry: dict[str, Any] = {"workload": workload, "concurrency": concurrency}
            for name, group in (("modelgate", ours), ("upstream", theirs)):
                if group:
                    entry[name] = {
                        "rps_median": statistics.median(r.rps for r in group),
                        "p50_ms_median": statistics.median(r.p50_ms for r in group),
                        "p99_ms_median": statistics.median(r.p99_ms for r in group),
                        "server_cpu_ms_median": statistics.median(r.server_cpu_ms for r in group),
                        "postgres_cpu_ms_median": statistics.median(
                            r.postgres_cpu_ms for r in group
                        ),
                    }
            if theirs:
                ratios = [
                    o.rps / t.rps if t.rps else float("inf")
                    for o, t in zip(ours, theirs, strict=True)
                ]
                entry["ratios"] = ratios
                entry["ratio_median"] = statistics.median(ratios)
            comparisons.append(entry)
    ours_now = rss_mib(ours_pid)
    report: dict[str, Any] = {
        "bench": "kubeflow_reads",
        "run": run_info(),
        "conditions": {
            "versions": args.models * args.per_model,
            "models": args.models,
            "seconds": args.seconds,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "cpus": os.cpu_count(),
            "loadavg_at_end": os.getloadavg(),
            "upstream": VERSION,
        },
        "runs": [asdict(r) for r in runs],
        "comparisons": comparisons,
        "rss_mib": {
            "modelgate_peak": peak_rss_mib(ours_pid),
            "modelgate_at_end": ours_now,
        },
    }
    if upstream is not None and upstream.server is not None:
        report["rss_mib"]["upstream_peak"] = peak_rss_mib(upstream.server.pid)
        report["rss_mib"]["upstream_at_end"] = rss_mib(upstream.server.pid)
    return report


def print_report(report: dict[str, Any]) -> None:
    c = report["conditions"]
    print(
        f"\n{c['versions']} versions in {c['models']} models; {c['seconds']:.0f}s per run after "
        f"{c['warmup_s']:.0f}s warm-up; {c['rounds']} round(s); {c['cpus']} cores shared by the "
        f"load, both servers and PostgreSQL; load average at the end {c['loadavg_at_end'][0]:.2f}"
    )
    for run in report["runs"]:
        print(Run(**run).line())
    print()
    for entry in report["comparisons"]:
        ours, theirs = entry.get("modelgate", {}), entry.get("upstream")
        line = (
            f"{entry['workload']:<15} c={entry['concurrency']:<2} ours {ours['rps_median']:8.1f} "
            f"req/s p99 {ours['p99_ms_median']:6.2f} ms CPU {ours['server_cpu_ms_median']:.2f}"
            f"+{ours['postgres_cpu_ms_median']:.2f} ms"
        )
        if theirs:
            line += (
                f" | upstream {theirs['rps_median']:8.1f} req/s p99 "
                f"{theirs['p99_ms_median']:6.2f} ms CPU {theirs['server_cpu_ms_median']:.2f}"
                f"+{theirs['postgres_cpu_ms_median']:.2f} ms | ratio median "
                f"{entry['ratio_median']:.2f}x (rounds: "
                + ", ".join(f"{r:.2f}x" for r in entry["ratios"])
                + ")"
            )
        print(line)
    rss = report["rss_mib"]
    line = f"\nRSS MiB: ours peak {rss['modelgate_peak']:.1f}, at end {rss['modelgate_at_end']:.1f}"
    if "upstream_peak" in rss:
        line += f"; upstream peak {rss['upstream_peak']:.1f}, at end {rss['upstream_at_end']:.1f}"
    print(line)


if __name__ == "__main__":
    cli()
