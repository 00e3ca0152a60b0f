"""The CLI's presigned upload against a plain aioboto3 multipart upload of the same files.

Load: a directory of --files files of random bytes, --size-mib in all (default 2048 and 4
files), uploaded --runs times each way (alternating) to the same MinIO. The CLI runs as a
subprocess (`modelgate submit DIR --json --quiet`, 4 parts in flight, parts hashed and read
from disk as they are sent) against an ingest started for the run; the baseline is aioboto3's
managed `upload_file` (16 MiB parts, 4 at once) of each file in turn, from this process.
Prints MiB/s both ways and their ratio (best run each), the CLI's peak RSS (the child's
VmHWM, sampled while it runs) and ingest's CPU seconds during the CLI's upload.

    uv run python -m bench.upload_presigned --size-mib 2048 [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from boto3.s3.transfer import TransferConfig

from bench.harness import (
    BenchNamespace,
    Service,
    cpu_seconds,
    make_file,
    peak_rss_mib,
    stack_env,
)
from modelgate_shared.s3 import ensure_bucket, s3_client
from modelgate_shared.settings import ServiceSettings

MiB = 1024 * 1024
CARD = {"description": "benchmark", "owner_team": "bench", "license": "apache-2.0"}


def make_directory(root: Path, size_mib: int, files: int) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    each = size_mib * MiB // files
    made = [make_file(root / f"shard-{n:02d}.bin", each) for n in range(files)]
    for stale in root.iterdir():
        if stale not in made:
            stale.unlink()
    return made


async def upload_plain(settings: ServiceSettings, files: list[Path], n: int) -> float:
    config = TransferConfig(multipart_chunksize=16 * MiB, max_concurrency=4)
    async with s3_client(settings) as s3:
        await ensure_bucket(s3, settings.s3_bucket)
        began = time.perf_counter()
        for path in files:
            await s3.upload_file(
                str(path), settings.s3_bucket, f"plain/{n}/{path.name}", Config=config
            )
        return time.perf_counter() - began


def upload_cli(
    ingest: Service, ns: BenchNamespace, root: Path, n: int, state: Path
) -> tuple[float, float, float, dict[str, Any]]:
    """Wall seconds, the CLI's peak RSS (MiB), ingest's CPU seconds, the CLI's answer."""
    card = root.parent / "bench-card.json"
    card.write_text(json.dumps(CARD))
    env = {
        **os.environ,
        "MODELGATE_URL": ingest.url,
        "MODELGATE_INGEST_URL": ingest.url,
        "MODELGATE_AUDIT_URL": ingest.url,
        "MODELGATE_TOKEN": ns.tokens["data-scientist"],
        "MODELGATE_CONFIG": str(root.parent / "bench-config.toml"),
        "MODELGATE_UPLOAD_STATE_DIR": str(state),
    }
    args = [
        sys.executable,
        "-m",
        "modelgate",
        "submit",
        str(root),
        "--name",
        f"bench-presigned-{ns.run_id}-{n}",
        "--version",
        "1.0.0",
        "--card",
        str(card),
        "--json",
        "--quiet",
    ]
    assert ingest.proc is not None
    cpu_before = cpu_seconds(ingest.proc.pid)
    began = time.perf_counter()
    out_path, err_path = state / f"cli-{n}.out", state / f"cli-{n}.err"
    state.mkdir(parents=True, exist_ok=True)
    with out_path.open("wb") as out_file, err_path.open("wb") as err_file:
        child = subprocess.Popen(args, env=env, stdout=out_file, stderr=err_file)
        # The CLI's own VmHWM, read while it runs: ru_maxrss would also count this
        # (bigger) process, whose peak a forked child inherits across exec on Linux.
        rss = 0.0
        while child.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                rss = max(rss, peak_rss_mib(child.pid))
            time.sleep(0.05)
    elapsed = time.perf_counter() - began
    cpu = cpu_seconds(ingest.proc.pid) - cpu_before
    if child.returncode != 0:
        raise RuntimeError(f"the CLI failed: {err_path.read_text()[-2000:]}")
    out = out_path.read_text()
    return elapsed, rss, cpu, json.loads(out)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=2048)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/modelgate-bench-presigned"))
    parser.add_argument("--json", action="store_true", help="One JSON document on stdout.")
    args = parser.parse_args()
    asyncio.run(main(args, stack_env()))


async def main(args: argparse.Namespace, env: dict[str, str]) -> None:
    ns = BenchNamespace(env)
    root = args.dir / "model"
    files = make_directory(root, args.size_mib, args.files)
    await ns.provision()
    ingest = Service("ingest", ns.service_env("ingest")).start()
    settings = ServiceSettings.model_validate(ns.env)
    try:
        plain, through, rss, cpu = [], [], [], []
        for n in range(args.runs):
            plain.append(await upload_plain(settings, files, n))
            elapsed, peak, used, answer = await asyncio.to_thread(
                upload_cli, ingest, ns, root, n, args.dir / "state"
            )
            assert answer["upload"]["bytes_sent"] == args.size_mib * MiB // args.files * len(
                files
            ), answer["upload"]
            through.append(elapsed)
            rss.append(peak)
            cpu.append(used)
        size = sum(p.stat().st_size for p in files) / MiB
        best_plain, best_cli = min(plain), min(through)
        result = {
            "load": {
                "files": len(files),
                "mib": size,
                "runs": args.runs,
                "cpus": os.cpu_count(),
            },
            "plain_mib_s": size / best_plain,
            "cli_mib_s": size / best_cli,
            "ratio": best_plain / best_cli,
            "plain_runs_s": [round(t, 2) for t in plain],
            "cli_runs_s": [round(t, 2) for t in through],
            "cli_peak_rss_mib": max(rss),
            "ingest_cpu_s": [round(c, 2) for c in cpu],
            "ingest_cpu_share": max(c / t for c, t in zip(cpu, through, strict=True)),
            "ingest_peak_rss_mib": ingest.peak_rss_mib(),
        }
        if args.json:
            print(json.dumps(result, indent=2))
            return
        print(
            f"load: {len(files)} files, {size:.0f} MiB of random bytes; {args.runs} runs "
            "each way, alternating, best run shown"
        )
        print(
            f"plain aioboto3 multipart upload : {result['plain_mib_s']:8.1f} MiB/s "
            f"(runs {result['plain_runs_s']} s)"
        )
        print(
            f"modelgate submit (presigned)    : {result['cli_mib_s']:8.1f} MiB/s "
            f"(runs {result['cli_runs_s']} s)"
        )
        print(f"ratio CLI/plain throughput      : {result['ratio']:8.2f}")
        print(f"CLI peak RSS                    : {result['cli_peak_rss_mib']:8.1f} MiB")
        print(
            f"ingest CPU during the CLI upload: {result['ingest_cpu_s']} s "
            f"(at most {result['ingest_cpu_share']:.1%} of one core)"
        )
    finally:
        ingest.stop()
        await ns.drop()


if __name__ == "__main__":
    cli()
