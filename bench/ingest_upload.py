"""Ingest upload throughput against a plain aioboto3 multipart upload of the same file.

Load: one file of --size-mib (default 2048) random bytes, uploaded --runs times each way to the
same MinIO. Ingest streams it (multipart form in, S3 multipart out, SHA-256 on the way); the
baseline is aioboto3's managed `upload_file` (multipart, no checksums) from the same process
that runs the benchmark. Prints MiB/s for both, the ratio, and ingest's peak RSS; `--json FILE`
also writes the result (`bench.throughput`).

    uv run python -m bench.ingest_upload --size-mib 2048
    uv run python -m bench.ingest_upload --json bench/results/upload-<date>.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from boto3.s3.transfer import TransferConfig

from bench import throughput
from bench.harness import BenchNamespace, Service, make_file, run_info, stack_env
from modelgate_shared.s3 import ensure_bucket, s3_client
from modelgate_shared.settings import ServiceSettings

MiB = 1024 * 1024


async def _file_body(path: Path, boundary: str, metadata: str) -> AsyncIterator[bytes]:
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n'
        f"Content-Type: application/json\r\n\r\n{metadata}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="model.safetensors"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    with path.open("rb") as source:
        while chunk := await asyncio.to_thread(source.read, 4 * MiB):
            yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()


async def upload_through_ingest(ingest: Service, ns: BenchNamespace, path: Path, n: int) -> float:
    metadata = json.dumps(
        {
            "name": f"bench-upload-{n}",
            "version": "1.0.0",
            "model_card": {
                "description": "benchmark",
                "owner_team": "bench",
                "license": "apache-2.0",
            },
        }
    )
    boundary = "modelgate-bench-boundary"
    async with httpx.AsyncClient(timeout=3600) as client:
        began = time.perf_counter()
        answer = await client.post(
            f"{ingest.url}/api/v1/submissions",
            content=_file_body(path, boundary, metadata),
            headers={
                **ns.auth("data-scientist"),
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        elapsed = time.perf_counter() - began
    if answer.status_code != 202:
        raise RuntimeError(f"ingest answered {answer.status_code}: {answer.text}")
    return elapsed


async def upload_plain(settings: ServiceSettings, path: Path, n: int) -> float:
    config = TransferConfig(multipart_chunksize=16 * MiB, max_concurrency=4)
    async with s3_client(settings) as s3:
        await ensure_bucket(s3, settings.s3_bucket)
        began = time.perf_counter()
        await s3.upload_file(str(path), settings.s3_bucket, f"plain/{n}/model.bin", Config=config)
        return time.perf_counter() - began


def summary(
    size_mib: int, through: list[float], plain: list[float], rss_mib: float
) -> dict[str, Any]:
    """The --json result of one run (`bench.throughput`'s shape)."""
    return throughput.result(
        "ingest_upload",
        run_info(),
        size_mib=size_mib,
        ours=throughput.side("through ingest (SHA-256, checks)", size_mib, through),
        baseline=throughput.side("plain aioboto3 multipart upload", size_mib, plain),
        peak_rss_mib=rss_mib,
        peak_rss_of="ingest",
    )


def cli() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python -m bench.ingest_upload --size-mib 2048\n"
        "  python -m bench.ingest_upload --size-mib 256 --runs 1 --json upload.json",
    )
    parser.add_argument("--size-mib", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--file", type=Path, default=Path("/tmp/modelgate-bench-upload.bin"))
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    # The stack is started (if needed) before the event loop: it runs its own.
    results = asyncio.run(main(args, stack_env()))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


async def main(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    ns = BenchNamespace(env)
    path = make_file(args.file, args.size_mib * MiB)
    await ns.provision()
    ingest = Service("ingest", ns.service_env("ingest")).start()
    settings = ServiceSettings.model_validate(ns.env)
    try:
        plain, through = [], []
        for n in range(args.runs):
            plain.append(await upload_plain(settings, path, n))
            through.append(await upload_through_ingest(ingest, ns, path, n))
        size = args.size_mib
        best_plain, best_ingest = min(plain), min(through)
        print(f"file: {size} MiB of random bytes; {args.runs} runs each, best run shown")
        print(
            f"plain aioboto3 multipart upload : {size / best_plain:8.1f} MiB/s "
            f"({best_plain:.1f} s; all runs {[round(t, 1) for t in plain]})"
        )
        print(
            f"through ingest (SHA-256, checks): {size / best_ingest:8.1f} MiB/s "
            f"({best_ingest:.1f} s; all runs {[round(t, 1) for t in through]})"
        )
        print(f"ratio ingest/plain throughput   : {best_plain / best_ingest:8.2f}")
        rss = ingest.peak_rss_mib()
        print(f"ingest peak RSS                 : {rss:8.1f} MiB")
        return summary(size, through, plain, rss)
    finally:
        ingest.stop()
        await ns.drop()


if __name__ == "__main__":
    cli()
