"""Validator hashing throughput against `sha256sum` on the same file.

Load: one file of --size-mib (default 2048) random bytes. The validator's integrity code path
(ArtifactReader streaming the object from MinIO, SHA-256 in worker threads) hashes it from S3;
`sha256sum` hashes the local copy. Prints MiB/s for both, the ratio and this process's peak RSS
(the file never sits in memory). `--json FILE` also writes the result (`bench.throughput`).

    uv run python -m bench.validator_hashing --size-mib 2048
    uv run python -m bench.validator_hashing --json bench/results/hashing-<date>.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import throughput
from bench.harness import BenchNamespace, make_file, peak_rss_mib, run_info, stack_env
from modelgate_ingest.artifact_store import ArtifactStore
from modelgate_shared.s3 import ensure_bucket, s3_client
from modelgate_shared.settings import ServiceSettings
from modelgate_testkit.factories import submitted
from modelgate_validator.artifact_reader import ArtifactReader, object_session
from modelgate_validator.checks.base import CheckContext
from modelgate_validator.checks.integrity import sha256_of
from modelgate_validator.files import SubmissionFiles
from modelgate_validator.settings import ValidatorSettings

MiB = 1024 * 1024


def time_sha256sum(path: Path, runs: int) -> tuple[list[float], str]:
    times, digest = [], ""
    for _ in range(runs):
        began = time.perf_counter()
        out = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - began)
        digest = out.stdout.split()[0]
    return times, digest


def summary(
    size_mib: int, ours: list[float], theirs: list[float], rss_mib: float
) -> dict[str, Any]:
    """The --json result of one run (`bench.throughput`'s shape)."""
    return throughput.result(
        "validator_hashing",
        run_info(),
        size_mib=size_mib,
        ours=throughput.side("validator (streamed from MinIO)", size_mib, ours),
        baseline=throughput.side("sha256sum (local file)", size_mib, theirs),
        peak_rss_mib=rss_mib,
        peak_rss_of="benchmark process (upload and hashing)",
    )


def cli() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python -m bench.validator_hashing --size-mib 2048\n"
        "  python -m bench.validator_hashing --size-mib 256 --runs 1 --json hashing.json",
    )
    parser.add_argument("--size-mib", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--file", type=Path, default=Path("/tmp/modelgate-bench-upload.bin"))
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    # The stack is started (if needed) before the event loop: it runs its own.
    results = asyncio.run(main(args, stack_env()))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


async def main(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    ns = BenchNamespace(env)
    try:
        return await measure(args, ns)
    finally:
        await ns.drop()


async def measure(args: argparse.Namespace, ns: BenchNamespace) -> dict[str, Any]:
    settings = ServiceSettings.model_validate(ns.env)
    defaults = ValidatorSettings.model_validate(ns.env)
    path = make_file(args.file, args.size_mib * MiB)
    key = "hashing/model.bin"
    async with s3_client(settings, retries=1) as s3, object_session(s3) as http:
        await ensure_bucket(s3, settings.s3_bucket)
        # Ingest's own streaming upload: bounded memory, so the peak below is the hashing's.
        upload = ArtifactStore(
            s3, settings.s3_bucket, part_size=16 * MiB, max_file_bytes=path.stat().st_size
        ).begin(key)
        with path.open("rb") as source:
            while chunk := source.read(4 * MiB):
                await upload.write(chunk)
        await upload.finish()
        reader = ArtifactReader(
            s3,
            http,
            attempts=defaults.s3_attempts,
            backoff_initial_s=defaults.s3_backoff_initial_s,
            backoff_max_s=defaults.s3_backoff_max_s,
            chunk_bytes=defaults.read_chunk_bytes,
        )
        ctx = CheckContext(
            submission=submitted(),
            reader=reader,
            files=SubmissionFiles(reader, small_limit=8 * MiB),
            scratch=Path(tempfile.mkdtemp()),
        )
        uri = f"s3://{settings.s3_bucket}/{key}"
        ours, digest = [], ""
        for _ in range(args.runs):
            began = time.perf_counter()
            digest = await sha256_of(ctx, uri)
            ours.append(time.perf_counter() - began)

    theirs, expected = await asyncio.to_thread(time_sha256sum, path, args.runs)
    assert digest == expected, "the validator's digest differs from sha256sum's"
    size = args.size_mib
    print(
        f"file: {size} MiB of random bytes; {args.runs} runs each, best run shown; "
        f"{os.cpu_count()} cores"
    )
    print(
        f"sha256sum (local file)          : {size / min(theirs):8.1f} MiB/s "
        f"(runs {[round(t, 2) for t in theirs]} s)"
    )
    print(
        f"validator (streamed from MinIO) : {size / min(ours):8.1f} MiB/s "
        f"(runs {[round(t, 2) for t in ours]} s)"
    )
    print(f"ratio validator/sha256sum       : {min(theirs) / min(ours):8.2f}")
    rss = peak_rss_mib(os.getpid())
    print(
        f"benchmark process peak RSS      : {rss:8.1f} MiB "
        "(upload and hashing; the file never sits in memory)"
    )
    return summary(size, ours, theirs, rss)


if __name__ == "__main__":
    cli()
