"""Registry read throughput and latency against MLflow's tracking server, same machine, same run.

Load: both registries hold --models models × --per-model versions (default 1000 × 10 = 10,000
versions) in PostgreSQL. Workloads, each run for --seconds at concurrency 1 and 16:
  get-version  one random version            GET /api/v1/models/{m}/versions/{v}
                                             vs MLflow GET /api/2.0/mlflow/model-versions/get
  list         the versions of a random model GET /api/v1/models/{m}/versions?limit=50
                                             vs MLflow GET /api/2.0/mlflow/model-versions/search
Modelgate's registry runs as one process (uvicorn); MLflow with its default server (uvicorn,
4 workers), PostgreSQL backend. Load comes from this process (aiohttp, closed loop). --rounds
repeats the whole set, the two systems alternating; ratios are per round, their median printed.

    uv run python -m bench.registry_reads [--json bench/results/reads-<date>.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import aiohttp
import asyncpg
import httpx

from bench.harness import (
    ROOT,
    BenchNamespace,
    Service,
    create_databases,
    database_url,
    drop_databases,
    peak_rss_mib,
    percentiles,
    run_info,
    stack_env,
)
from bench.load import Result, run_load
from modelgate_testkit.clients import client_python
from modelgate_testkit.services import free_port

MLFLOW = "3.17.2"
CARD = {
    "description": "benchmark model",
    "owner_team": "bench",
    "license": "apache-2.0",
    "metrics": {"accuracy": 0.91},
}


async def seed_registry(url: str, models: int, per_model: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        now = datetime.now(UTC)
        model_rows = [
            (
                f"bench-model-{m:05d}",
                "benchmark model",
                "bench",
                "apache-2.0",
                "bench",
                now - timedelta(minutes=m),
            )
            for m in range(models)
        ]
        await conn.copy_records_to_table(
            "models",
            schema_name="registry",
            records=model_rows,
            columns=["name", "description", "owner", "license", "created_by", "created_at"],
        )
        ids = {r["name"]: r["id"] for r in await conn.fetch("SELECT id, name FROM registry.models")}
        card = json.dumps(CARD)
        version_rows = [
            (
                ids[f"bench-model-{m:05d}"],
                f"1.{v}.0",
                "REGISTERED",
                "development",
                uuid4(),
                "ai-scientist",
                "benchmark version",
                card,
                json.dumps(
                    {
                        "uri": "s3://bench/x/",
                        "format": "safetensors",
                        "files": [
                            {
                                "path": "model.safetensors",
                                "uri": "s3://bench/x/model.safetensors",
                                "sha256": "0" * 64,
                                "size": 1,
                            }
                        ],
                    }
                ),
                now - timedelta(seconds=m * per_model + v),
            )
            for m in range(models)
            for v in range(per_model)
        ]
        await conn.copy_records_to_table(
            "versions",
            schema_name="registry",
            records=version_rows,
            columns=[
                "model_id",
                "version",
                "status",
                "stage",
                "submission_id",
                "submitter",
                "description",
                "model_card",
                "artifact",
                "created_at",
            ],
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def start_mlflow(python: Path, url: str, port: int) -> subprocess.Popen[bytes]:
    backend = url.replace("postgresql://", "postgresql+psycopg2://", 1)
    log = (ROOT / ".local" / "bench-mlflow.log").open("ab")
    proc = subprocess.Popen(
        [
            str(python),
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            backend,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--default-artifact-root",
            str(ROOT / ".local" / "bench-mlflow-artifacts"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "MLFLOW_LOGGING_LEVEL": "WARNING"},
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("MLflow exited; see .local/bench-mlflow.log")
        time.sleep(0.5)
    raise RuntimeError("MLflow did not start")


async def seed_mlflow(base: str, models: int, per_model: int) -> None:
    api = f"{base}/api/2.0/mlflow"
    connector = aiohttp.TCPConnector(limit=16)
    async with aiohttp.ClientSession(connector=connector) as session:
        limit = asyncio.Semaphore(16)

        async def post(path: str, body: dict[str, Any]) -> None:
            async with limit, session.post(f"{api}/{path}", json=body) as answer:
                if answer.status != 200:
                    raise RuntimeError(f"MLflow {path}: {answer.status} {await answer.text()}")

        async def model(m: int) -> None:
            name = f"bench-model-{m:05d}"
            await post("registered-models/create", {"name": name, "description": "benchmark model"})
            for _ in range(per_model):
                await post(
                    "model-versions/create",
                    {"name": name, "source": "s3://bench/x/", "description": "benchmark version"},
                )

        await asyncio.gather(*(model(m) for m in range(models)))


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--per-model", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of both systems")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    results = asyncio.run(main(args, stack_env()))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


async def main(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    ns = BenchNamespace(env)
    admin_url = env["DATABASE_URL"]
    ours_db, theirs_db = f"bench_registry_{ns.run_id}", f"bench_mlflow_{ns.run_id}"
    await create_databases(admin_url, ours_db, theirs_db)
    # A throwaway database: the registry runs as the owner and migrates it itself at start.
    ours_url = database_url(admin_url, ours_db)
    await ns.provision()
    registry = Service(
        "registry",
        {**ns.service_env("registry"), "DATABASE_URL": ours_url, "DATABASE_OWNER_URL": ours_url},
    )
    mlflow: subprocess.Popen[bytes] | None = None
    try:
        registry.start()
        began = time.monotonic()
        await seed_registry(database_url(admin_url, ours_db), args.models, args.per_model)
        print(
            f"seeded Modelgate with {args.models * args.per_model} versions "
            f"in {time.monotonic() - began:.1f}s"
        )
        python = await asyncio.to_thread(client_python, "mlflow", MLFLOW, ("psycopg2-binary",))
        port = free_port()
        mlflow = await asyncio.to_thread(
            start_mlflow, python, database_url(admin_url, theirs_db), port
        )
        began = time.monotonic()
        await seed_mlflow(f"http://127.0.0.1:{port}", args.models, args.per_model)
        print(
            f"seeded MLflow {MLFLOW} with {args.models * args.per_model} versions "
            f"in {time.monotonic() - began:.1f}s"
        )

        rng = random.Random(7)
        models = [f"bench-model-{m:05d}" for m in range(args.models)]
        mlflow_base = f"http://127.0.0.1:{port}/api/2.0/mlflow"
        workloads = {
            "get-version": (
                lambda: (
                    f"{registry.url}/api/v1/models/{rng.choice(models)}/versions/"
                    f"1.{rng.randrange(args.per_model)}.0"
                ),
                lambda: (
                    f"{mlflow_base}/model-versions/get?name={rng.choice(models)}"
                    f"&version={rng.randrange(1, args.per_model + 1)}"
                ),
            ),
            "list": (
                lambda: f"{registry.url}/api/v1/models/{rng.choice(models)}/versions?limit=50",
                lambda: (
                    f"{mlflow_base}/model-versions/search?max_results=50&filter="
                    + quote(f"name='{rng.choice(models)}'")
                ),
            ),
        }
        # Rounds alternate the two systems, so a noisy spell on the shared machine hits both;
        # the comparison below uses each pair's ratio (median over rounds).
        results: dict[tuple[str, str, int], list[Result]] = {}
        auth = ns.auth("viewer")
        for _ in range(args.rounds):
            for workload, (ours, theirs) in workloads.items():
                for concurrency in (1, 16):
                    results.setdefault((workload, "modelgate", concurrency), []).append(
                        await run_load(
                            ours, concurrency=concurrency, seconds=args.seconds, headers=auth
                        )
                    )
                    results.setdefault((workload, "mlflow", concurrency), []).append(
                        await run_load(theirs, concurrency=concurrency, seconds=args.seconds)
                    )

        print(
            f"\n{args.models * args.per_model} versions; {args.seconds:.0f}s per run after a "
            f"1s warm-up; {args.rounds} round(s); {os.cpu_count()} cores shared by load, "
            "servers and PostgreSQL"
        )
        for (workload, system, concurrency), runs in results.items():
            for result in runs:
                print(result.line(f"{workload:<12} {system:<10} concurrency {concurrency:>2}"))
        print()
        summary: dict[str, Any] = {
            "bench": "registry_reads",
            "run": run_info(),
            "versions": args.models * args.per_model,
            "seconds": args.seconds,
            "mlflow": MLFLOW,
            "runs": [
                {
                    "workload": workload,
                    "system": system,
                    "concurrency": concurrency,
                    "rps": [r.rps for r in runs],
                    "p99_ms": [percentiles(r.latencies_ms)["p99"] for r in runs],
                    "failures": [r.failures for r in runs],
                }
                for (workload, system, concurrency), runs in results.items()
            ],
        }
        for workload in workloads:
            for concurrency in (1, 16):
                ours_runs = results[(workload, "modelgate", concurrency)]
                theirs_runs = results[(workload, "mlflow", concurrency)]
                ratios = [
                    o.rps / t.rps if t.rps else float("inf")
                    for o, t in zip(ours_runs, theirs_runs, strict=True)
                ]
                worst_p99 = max(percentiles(r.latencies_ms)["p99"] for r in ours_runs)
                print(
                    f"{workload:<12} concurrency {concurrency:>2}: Modelgate/MLflow throughput "
                    f"ratio median {statistics.median(ratios):6.1f}x "
                    f"(rounds: {', '.join(f'{r:.1f}x' for r in ratios)}); "
                    f"Modelgate worst p99 {worst_p99:.2f} ms"
                )
        summary["registry_peak_rss_mib"] = registry.peak_rss_mib()
        print(f"\nModelgate registry peak RSS: {summary['registry_peak_rss_mib']:.1f} MiB")
        if mlflow is not None:
            print(f"MLflow server (parent process) peak RSS: {peak_rss_mib(mlflow.pid):.1f} MiB")
        return summary
    finally:
        registry.stop()
        await ns.drop()
        if mlflow is not None:
            mlflow.terminate()
            mlflow.wait(timeout=30)
        await drop_databases(admin_url, ours_db, theirs_db)


if __name__ == "__main__":
    cli()
