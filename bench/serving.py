"""Serving benchmark of one model with a runner: throughput, TTFT, inter-token and end-to-end
latency percentiles per concurrency level, failures, peak memory, and the certification verdict
for the host's hardware profile. The same code path as the validator's benchmark check, minus
S3: the model is read from a local path.

Load: the validator's fixed workload (MODELGATE_BENCHMARK_* or the options below), streamed
`/v1/completions` at each concurrency level, closed loop.

    # GPU host (NVIDIA driver, `vllm` on PATH or MODELGATE_VLLM_EXECUTABLE):
    make bench-gpu MODEL=/models/granite-3.1-8b-instruct QUANTIZATION=fp8
    # CPU, on a generated tiny GGUF model (what CI's end-to-end test serves):
    uv run python -m bench.serving --runner llama-cpp --tiny --concurrency 1,4
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from modelgate_shared.events import (
    Artifact,
    ArtifactFile,
    ArtifactFormat,
    BenchmarkResult,
    ModelCard,
    ModelSubmitted,
)
from modelgate_testkit.gguf_model import write_tiny_llama
from modelgate_validator.main import build_runners
from modelgate_validator.runners.profiles import load_profiles
from modelgate_validator.runners.serving import ServingRunner
from modelgate_validator.settings import ValidatorSettings

RESULTS = Path(__file__).resolve().parent / "results"


def local_submission(
    model: Path, name: str, quantization: str | None
) -> tuple[ModelSubmitted, Path]:
    """A submission describing a model on local disk, and the directory a server loads it from."""
    if model.is_file():
        root, paths = model.parent, [model.name]
        fmt = ArtifactFormat.GGUF if model.suffix == ".gguf" else ArtifactFormat.OTHER
    else:
        root = model
        paths = sorted(str(p.relative_to(model)) for p in model.rglob("*") if p.is_file())
        fmt = ArtifactFormat.HF_DIRECTORY
    files = [ArtifactFile(path=p, uri=f"s3://local-bench/{p}") for p in paths]
    submission = ModelSubmitted(
        submission_id=uuid4(),
        name=name,
        version="0.0.0-bench",
        submitter="bench",
        artifact=Artifact(uri="s3://local-bench/", format=fmt, files=files),
        model_card=ModelCard(description="benchmark", quantization=quantization),
        submitted_at=datetime.now(UTC),
    )
    return submission, root


def report(result: BenchmarkResult, verdict: list[str] | None) -> None:
    hw = result.hardware
    gpu = f"{hw.gpu_count} × {hw.gpu_model} ({hw.gpu_memory_mib} MiB)" if hw.gpu_count else "none"
    print(f"runner {result.runner} ({result.server}) on profile {result.hardware_profile}")
    print(f"gpu: {gpu}, driver {hw.driver_version}, CUDA {hw.cuda_version}")
    print(f"cpu: {hw.cpu_count} × {hw.cpu_model}")
    print(f"workload: {result.workload}")
    head = (
        f"{'conc':>4} {'reqs':>5} {'fail':>4} {'out tok/s':>10} {'server tok/s':>12} "
        f"{'req/s':>7} {'ttft p50/p95/p99 ms':>24} {'itl p50/p95/p99 ms':>22} "
        f"{'e2e p50/p95/p99 ms':>26}"
    )
    print(head)
    for r in result.runs:
        server = f"{r.server_output_tokens_per_s:.1f}" if r.server_output_tokens_per_s else "-"
        print(
            f"{r.concurrency:>4} {r.requests:>5} {r.failures:>4} {r.output_tokens_per_s:>10.1f} "
            f"{server:>12} {r.requests_per_s:>7.2f} "
            f"{r.ttft.p50_ms:>8.1f}/{r.ttft.p95_ms:.1f}/{r.ttft.p99_ms:.1f}".ljust(24)
            + f" {r.itl.p50_ms:>7.1f}/{r.itl.p95_ms:.1f}/{r.itl.p99_ms:.1f}".ljust(22)
            + f" {r.e2e.p50_ms:>8.1f}/{r.e2e.p95_ms:.1f}/{r.e2e.p99_ms:.1f}"
        )
    memory = "GPU memory in use (NVML)" if result.runner == "vllm" else "server peak RSS"
    print(f"peak memory: {result.peak_memory_mib} MiB ({memory})")
    if verdict is None:
        print(f"certification: no thresholds for {result.hardware_profile}")
    elif verdict:
        print(f"certification: NOT certified for {result.hardware_profile}: " + "; ".join(verdict))
    else:
        print(f"certification: certified for {result.hardware_profile}")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runner", choices=("vllm", "llama-cpp"), required=True)
    parser.add_argument("--model", type=Path, help="a .gguf file or a Hugging Face directory")
    parser.add_argument("--tiny", action="store_true", help="generate a tiny GGUF (llama-cpp)")
    parser.add_argument("--name", help="served model name (default: from the path)")
    parser.add_argument("--quantization", help="the model card's quantization, e.g. fp8")
    parser.add_argument("--concurrency", help="levels, e.g. 1,8,32")
    parser.add_argument("--prompt-tokens", type=int)
    parser.add_argument("--output-tokens", type=int)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--threads", type=int, help="llama.cpp threads")
    args = parser.parse_args()

    overrides = {
        "MODELGATE_BENCHMARK_RUNNERS": args.runner,
        "MODELGATE_BENCHMARK_CONCURRENCY": args.concurrency,
        "MODELGATE_BENCHMARK_PROMPT_TOKENS": args.prompt_tokens,
        "MODELGATE_BENCHMARK_OUTPUT_TOKENS": args.output_tokens,
        "MODELGATE_BENCHMARK_ROUNDS": args.rounds,
        "MODELGATE_LLAMA_CPP_THREADS": args.threads,
        "MODELGATE_VALIDATOR_WORK_DIR": tempfile.mkdtemp(prefix="modelgate-bench-"),
    }
    settings = ValidatorSettings(**{k: v for k, v in overrides.items() if v is not None})
    profiles = load_profiles(settings.hardware_profiles_file)
    (runner,) = build_runners(settings, profiles)
    assert isinstance(runner, ServingRunner)

    if args.tiny:
        model = write_tiny_llama(
            Path(settings.work_dir) / "tiny.gguf", embedding=512, layers=8, feed_forward=1536
        )
    elif args.model is not None:
        model = args.model.resolve()
    else:
        parser.error("give --model PATH or --tiny")
    name = args.name or re.sub(
        r"[^A-Za-z0-9._-]", "-", model.stem if model.is_file() else model.name
    )
    submission, model_dir = local_submission(model, name, args.quantization)
    reason = await runner.unavailable(submission)
    if reason is not None:
        print(f"{runner.name} cannot benchmark {model} here: {reason}")
        return 2
    result = await runner.benchmark(submission, model_dir)
    profile = profiles.get(result.hardware_profile)
    report(result, profile.thresholds.problems(result.runs) if profile else None)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"serving-{runner.name}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(result.model_dump_json(indent=2))
    print(f"result: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
