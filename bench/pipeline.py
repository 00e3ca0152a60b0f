"""End-to-end throughput and latency of the gate: submitted -> registered -> audited.

Load: N submissions (metadata plus one small safetensors artifact, every 10th rejected by
policy), offered at maximum rate and then at a fixed rate (by default half the maximum just
measured) after --warmup uncounted ones,
either as `model.submitted` events published straight to Kafka (what any producer may do; the
artifact is uploaded once) or through ingest's HTTP upload (each submission uploads its file).
The four services run as separate processes on this machine, with Kafka, PostgreSQL and MinIO;
latencies come from the database's commit times of the registration and of the audit entry.

    uv run python -m bench.pipeline --count 2000 --via kafka [--rate 250] [--json out.json]
    uv run python -m bench.pipeline --count 1000 --validator-replicas 1,2 --rounds 3 --json out.json

With several --validator-replicas counts (or --rounds), it measures the maximum rate with each
count of validator processes in turn, round after round, in one pipeline (extra replicas are
started and stopped between runs, each run preceded by an uncounted warm-up while the
consumer group settles), and prints them side by side with the ratio to the first count.

Each run also prints the CPU time per registration of every process, and the ratio of the
four services' CPU to the infrastructure's (Kafka, PostgreSQL, MinIO): on one machine the
absolute figures move with whatever else runs, the ratio within one run much less.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from bench.harness import (
    cpu_seconds,
    infra_pids,
    peak_rss_mib,
    percentiles,
    run_info,
    tree_cpu_seconds,
)
from modelgate_shared.events import SUBMITTED, ArtifactFile, encode, new_event
from modelgate_shared.events.codec import kafka_headers
from modelgate_shared.s3 import ensure_bucket, s3_client
from modelgate_shared.settings import ServiceSettings
from modelgate_testkit.factories import GOOD_CARD, submitted
from modelgate_testkit.infra import Infra, local_stack
from modelgate_testkit.pipeline import MODEL, Pipeline, Submitter


async def offer_kafka(
    pipeline: Pipeline, prefix: str, count: int, rate: float | None
) -> dict[str, float]:
    """Publish `count` model.submitted events; returns name -> offer time (epoch seconds)."""
    ns = pipeline.ns
    settings = ServiceSettings.model_validate(ns.env())
    key = f"bench/{prefix}/model.safetensors"
    async with s3_client(settings) as s3:
        await ensure_bucket(s3, ns.bucket)
        await s3.put_object(Bucket=ns.bucket, Key=key, Body=MODEL)
    artifact = [
        ArtifactFile(
            path="model.safetensors",
            uri=f"s3://{ns.bucket}/{key}",
            sha256=hashlib.sha256(MODEL).hexdigest(),
            size=len(MODEL),
        )
    ]
    signer = ns.producer  # a registered producer's key: its events are proven
    producer = AIOKafkaProducer(
        # As an external producer would: the `submitter` principal, model.submitted only.
        **ns.infra.kafka_as("submitter").client_options(),
        enable_idempotence=True,
        linger_ms=5,
    )
    await producer.start()
    offered: dict[str, float] = {}
    try:
        began = time.monotonic()
        pending = []
        for i in range(count):
            name = f"{prefix}-{i:06d}"
            card = GOOD_CARD if i % 10 else GOOD_CARD.model_copy(update={"license": "wtfpl"})
            event = new_event(
                SUBMITTED,
                submitted(name, files=artifact, model_card=card),
                source="urn:bench",
                subject=f"{name}/1.0.0",
            )
            if rate:
                await asyncio.sleep(max(0.0, began + i / rate - time.monotonic()))
            offered[name] = time.time()
            value = encode(event)
            headers = {**kafka_headers(event), **signer.headers(value)}
            pending.append(
                await producer.send(
                    ns.topics.submitted,
                    value,
                    key=name.encode(),
                    headers=[(k, v.encode()) for k, v in headers.items()],
                )
            )
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return offered


async def offer_ingest(
    pipeline: Pipeline, prefix: str, count: int, rate: float | None
) -> dict[str, float]:
    submitter = Submitter(pipeline, count, prefix=prefix, concurrency=16, rate_per_s=rate)
    began_wall, began = time.time(), time.monotonic()
    await submitter.run()
    return {n: began_wall + (t - began) for n, t in submitter.submitted_at.items()}


REGISTERED = (
    "SELECT m.name, extract(epoch FROM v.updated_at) AS t FROM registry.versions v "
    "JOIN registry.models m ON m.id = v.model_id WHERE m.name LIKE $1 AND v.status = 'REGISTERED'"
)
AUDITED = (
    "SELECT model, extract(epoch FROM recorded_at) AS t FROM audit.log "
    "WHERE model LIKE $1 AND action = 'model_registered'"
)
PROGRESS = (
    "SELECT (SELECT count(*) FROM registry.versions WHERE status = 'REGISTERED'), "
    "(SELECT count(*) FROM audit.log WHERE action = 'model_registered')"
)


async def progress(db: asyncpg.Connection) -> tuple[int, int]:
    """Registrations and their audit entries in the namespace's database so far."""
    row = await db.fetchrow(PROGRESS)
    assert row is not None
    return row[0], row[1]


async def measure(
    db: asyncpg.Connection,
    prefix: str,
    offered: dict[str, float],
    before: tuple[int, int],
    timeout_s: float,
) -> dict[str, Any]:
    names = list(offered)
    expected_registered = sum(1 for n in names if int(n.rsplit("-", 1)[1]) % 10)
    like = f"{prefix}-%"  # each run's models share a prefix in the namespace's own database
    # Wait on two plain counts, then read the commit times once. Polling the names themselves
    # twice a second (a join on fresh, unanalysed tables) kept PostgreSQL half a core busy,
    # taken from the gate being measured.
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        registered_n, audited_n = await progress(db)
        if min(registered_n - before[0], audited_n - before[1]) >= expected_registered:
            break
        await asyncio.sleep(0.5)
    registered = await db.fetch(REGISTERED, like)
    audited = await db.fetch(AUDITED, like)
    reg = {r["name"]: float(r["t"]) for r in registered}
    aud = {r["model"]: float(r["t"]) for r in audited}
    first = min(offered.values())
    return {
        "registered": len(reg),
        "expected": expected_registered,
        "audited": len(aud),
        "registered_latency": percentiles([(reg[n] - offered[n]) * 1000 for n in reg]),
        "audited_latency": percentiles([(aud[n] - offered[n]) * 1000 for n in aud]),
        "registered_per_s": len(reg) / (max(reg.values()) - first) if reg else 0.0,
        "audited_per_s": len(aud) / (max(aud.values()) - first) if aud else 0.0,
        "offer_seconds": max(offered.values()) - first,
    }


def report(label: str, result: dict[str, Any]) -> None:
    reg, aud = result["registered_latency"], result["audited_latency"]
    print(
        f"{label}: offered in {result['offer_seconds']:.1f}s; registered {result['registered']}"
        f"/{result['expected']}, audited {result['audited']}"
    )
    print(
        f"    throughput  submitted->registered {result['registered_per_s']:7.1f}/s   "
        f"submitted->audited {result['audited_per_s']:7.1f}/s"
    )
    print(
        f"    latency     registered p50 {reg['p50']:7.0f} ms  p95 {reg['p95']:7.0f} ms  "
        f"p99 {reg['p99']:7.0f} ms"
    )
    print(
        f"                audited    p50 {aud['p50']:7.0f} ms  p95 {aud['p95']:7.0f} ms  "
        f"p99 {aud['p99']:7.0f} ms"
    )


class CpuMeter:
    """CPU time of each process of the gate (services, Kafka, PostgreSQL, MinIO, this client)
    over one run: where a registration's CPU goes, and what that allows on this machine."""

    def __init__(self, processes: dict[str, int], trees: dict[str, int]) -> None:
        self.processes = processes
        self.trees = trees  # counted with their descendants
        self.began: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        return {
            **{name: cpu_seconds(pid) for name, pid in self.processes.items()},
            **{name: tree_cpu_seconds(pid) for name, pid in self.trees.items()},
        }

    def start(self) -> None:
        self.began = self._now()

    def report(self, registrations: int) -> dict[str, Any]:
        used = {n: s - self.began[n] for n, s in self._now().items()}
        per = {n: 1000 * s / registrations for n, s in used.items()} if registrations else {}
        total = sum(per.values())
        cores = os.cpu_count() or 1
        services = sum(ms for n, ms in per.items() if n.split("-")[0] in SERVICES)
        infra = sum(ms for n, ms in per.items() if n in INFRASTRUCTURE)
        ratio = services / infra if infra else float("nan")
        print(
            "    CPU per registration: "
            + ", ".join(f"{n} {ms:.2f}" for n, ms in sorted(per.items(), key=lambda x: -x[1]))
            + f" ms; total {total:.2f} ms, so {cores} cores allow at most "
            f"{1000 * cores / total if total else 0:.0f} registrations/s"
        )
        print(
            f"    services {services:.2f} ms, infrastructure {infra:.2f} ms: "
            f"services/infrastructure {ratio:.2f}"
        )
        return {
            "cpu_ms_per_registration": per,
            "services_ms": services,
            "infrastructure_ms": infra,
            "services_to_infrastructure": ratio,
        }


SERVICES = ("registry", "validator", "audit", "ingest")
INFRASTRUCTURE = ("kafka", "postgres", "minio")
SCALE_WARMUP = 100
"""Uncounted submissions after a change of validator replicas: the group's rebalance and the
new process's first batches are not the steady state."""


def gate_processes(pipeline: Pipeline) -> dict[str, int]:
    """Every service process by instance (`validator-2` ...), and this client. The services
    are this process's children: only the infrastructure is counted as process trees."""
    processes = {s.instance: s.proc.pid for s in pipeline.processes if s.proc is not None}
    processes["bench client"] = os.getpid()
    return processes


async def compare_validators(
    pipeline: Pipeline,
    args: argparse.Namespace,
    run: Callable[[str, int, float | None], Awaitable[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """The maximum rate with each count of validator replicas, round after round."""
    measured: list[dict[str, Any]] = []
    for round_ in range(1, args.rounds + 1):
        for replicas in args.validator_replicas:
            await pipeline.scale("validator", replicas)
            await run(f"w{round_}v{replicas}", SCALE_WARMUP, None)
            cpu = CpuMeter(gate_processes(pipeline), infra_pids())
            cpu.start()
            result = await run(f"s{round_}v{replicas}", args.count, None)
            report(f"round {round_}, {replicas} validator replica(s), maximum rate", result)
            result["cpu"] = cpu.report(result["registered"])
            result.update(round=round_, validator_replicas=replicas)
            measured.append(result)
    first = args.validator_replicas[0]
    print(f"maximum rate (registered/s), validator replicas side by side; ratio to {first}:")
    for round_ in range(1, args.rounds + 1):
        rates = {
            r["validator_replicas"]: r["registered_per_s"] for r in measured if r["round"] == round_
        }
        print(
            f"    round {round_}: "
            + "   ".join(
                f"{n}: {rate:6.1f}/s ({rate / rates[first]:.2f}x)" if rates[first] else f"{n}: -"
                for n, rate in rates.items()
            )
        )
    return measured


async def main(args: argparse.Namespace, infra: Infra) -> dict[str, Any]:
    env = {"MODELGATE_CPROFILE_DIR": args.profile} if args.profile else None
    pipeline = await Pipeline.start(
        infra,
        Path(tempfile.mkdtemp(prefix="bench-pipeline-")),
        env=env,
        replicas={"validator": args.validator_replicas[0]},
    )
    offer = offer_kafka if args.via == "kafka" else offer_ingest
    db = await asyncpg.connect(pipeline.ns.database_url)

    async def run(prefix: str, count: int, rate: float | None) -> dict[str, Any]:
        before = await progress(db)
        offered = await offer(pipeline, prefix, count, rate)
        return await measure(db, prefix, offered, before, args.timeout)

    try:
        print(
            f"{args.count} submissions per run via {args.via}; every 10th rejected by policy; "
            "4 services, Kafka, PostgreSQL and MinIO on this machine, "
            f"{os.cpu_count()} cores"
        )
        if args.warmup:
            # Consumer groups joining, pools filling, first-use imports: not the steady state.
            await run("warmup", args.warmup, None)
            print(f"warm-up: {args.warmup} submissions, not counted")
        results: dict[str, Any] = {
            "bench": "pipeline",
            "run": run_info(),
            "count": args.count,
            "via": args.via,
        }
        if len(args.validator_replicas) > 1 or args.rounds > 1:
            results["scale_out"] = await compare_validators(pipeline, args, run)
            return results
        processes = gate_processes(pipeline)
        # Maximum rate first: the fixed rate defaults to half of what it reached.
        for key in ("maximum", "fixed"):
            rate: float | None = None
            label = "maximum rate"
            if key == "fixed":
                rate = args.rate or round(results["maximum"]["registered_per_s"] / 2)
                label = f"fixed rate {rate:.0f}/s"
            cpu = CpuMeter(processes, infra_pids())
            cpu.start()
            result = await run(f"r{int(rate) if rate else 'max'}", args.count, rate)
            report(label, result)
            result["cpu"] = cpu.report(result["registered"])
            result["rate"] = rate
            results[key] = result
        results["peak_rss_mib"] = {
            service.instance: round(peak_rss_mib(service.proc.pid), 1)
            for service in pipeline.processes
            if service.proc is not None
        }
        print(
            "peak RSS: "
            + ", ".join(f"{name} {mib:.0f} MiB" for name, mib in results["peak_rss_mib"].items())
        )
        return results
    finally:
        await db.close()
        await pipeline.close()


def _counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("replica counts are whole numbers from 1, e.g. 1,2")
    return counts


def cli() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="examples:\n"
        "  uv run python -m bench.pipeline --count 2000 --json out.json\n"
        "  uv run python -m bench.pipeline --count 1000 --validator-replicas 1,2 --rounds 3 "
        "--json scale.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument(
        "--rate", type=float, default=None, help="fixed rate (default: half the maximum rate)"
    )
    parser.add_argument("--via", choices=("kafka", "ingest"), default="kafka")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--warmup", type=int, default=200, help="submissions before the runs")
    parser.add_argument(
        "--validator-replicas",
        type=_counts,
        default=[1],
        help="validator processes, e.g. 1,2: with several, the maximum rate with each in turn "
        "(and no fixed-rate run)",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="rounds of --validator-replicas comparisons"
    )
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument(
        "--profile",
        help="run each service under cProfile, its stats written to DIR/<service>.prof "
        "at the end (profiling slows the services: do not quote its CPU figures)",
    )
    args = parser.parse_args()
    if args.profile and max(args.validator_replicas) > 1:
        # Each process writes <dir>/<service>.prof: replicas would overwrite each other's.
        parser.error("--profile measures one process per service: not with validator replicas")
    infra = local_stack(start=True)
    assert infra is not None
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    results = asyncio.run(main(args, infra))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    cli()
