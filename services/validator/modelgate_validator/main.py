"""Composition root of the validator service: settings in, a runnable app out."""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from modelgate_shared import runtime
from modelgate_shared.bootstrap import build_event_signer, build_verifier
from modelgate_shared.events import SUBMITTED
from modelgate_shared.health import Readiness
from modelgate_shared.http_app import create_app
from modelgate_shared.kafka.broker import create_broker
from modelgate_shared.kafka.publisher import EventPublisher
from modelgate_shared.policy import PolicySettings
from modelgate_shared.telemetry import setup_telemetry
from modelgate_shared.topics import Topics
from modelgate_validator.artifact_reader import ArtifactReader, object_session
from modelgate_validator.checks.base import Check
from modelgate_validator.checks.benchmark import BenchmarkCheck, BenchmarkRunner
from modelgate_validator.checks.format_safety import FormatSafetyCheck
from modelgate_validator.checks.integrity import IntegrityCheck
from modelgate_validator.checks.pinning import PinningCheck
from modelgate_validator.checks.policy import PolicyCheck
from modelgate_validator.checks.signature import SignatureCheck
from modelgate_validator.handlers import SubmissionHandler
from modelgate_validator.pipeline import Validation
from modelgate_validator.repository import ValidationRepository
from modelgate_validator.runners import hardware
from modelgate_validator.runners.llama_cpp import LlamaCppRunner
from modelgate_validator.runners.pidfiles import PidDirectory
from modelgate_validator.runners.profiles import ProfileTable, load_profiles
from modelgate_validator.runners.serving import RunnerEnvironment
from modelgate_validator.runners.vllm import VllmRunner
from modelgate_validator.schema import SCHEMA
from modelgate_validator.settings import ValidatorSettings
from modelgate_validator.signing_policy import SigningPolicy

VERSION = "0.1.0"
RUNNERS = ("vllm", "llama-cpp")
log = logging.getLogger(__name__)


def server_pids(settings: ValidatorSettings) -> PidDirectory:
    """Shared by every validator process on the host (not per pid), so one can reap another's."""
    return PidDirectory(settings.work_dir / "servers")


def build_runners(settings: ValidatorSettings, profiles: ProfileTable) -> list[BenchmarkRunner]:
    """Benchmark runner plugins named in MODELGATE_BENCHMARK_RUNNERS, in that order."""
    unknown = [name for name in settings.benchmark_runners if name not in RUNNERS]
    if unknown:
        raise ValueError(
            f"unknown benchmark runners: {', '.join(unknown)} (known: {', '.join(RUNNERS)})"
        )
    if not settings.benchmark_runners:
        return []
    host = hardware.detect()
    log.info("hardware: %s", host.no_gpu_reason or host.info.model_dump(exclude_none=True))
    env = RunnerEnvironment(
        hardware=host,
        profiles=profiles,
        workload=settings.workload(),
        pids=server_pids(settings),
        cache_dir=settings.model_cache_dir or settings.work_dir / "model-cache",
        cache_max_bytes=int(settings.model_cache_max_gb * 1024**3),
        server_logs=settings.work_dir / "server-logs",
        ready_timeout_s=settings.benchmark_ready_timeout_s,
        run_timeout_s=settings.benchmark_timeout_s,
    )
    runners: list[BenchmarkRunner] = []
    for name in settings.benchmark_runners:
        if name == "vllm":
            extra = shlex.split(settings.vllm_extra_args)
            runners.append(VllmRunner(env, executable=settings.vllm_executable, extra_args=extra))
        else:
            runners.append(LlamaCppRunner(env, threads=settings.llama_cpp_threads))
    return runners


def build_checks(settings: ValidatorSettings) -> list[Check]:
    profiles = load_profiles(settings.hardware_profiles_file)
    gate_key = settings.gate_signing_key.read_bytes() if settings.gate_signing_key else None
    return [
        PolicyCheck(PolicySettings(), {settings.s3_bucket, *settings.reference_buckets}),
        IntegrityCheck(),
        SignatureCheck(SigningPolicy(settings.signing_policy), gate_signs=gate_key is not None),
        FormatSafetyCheck(),
        BenchmarkCheck(
            build_runners(settings, profiles),
            required=settings.benchmark_required,
            profiles=profiles,
        ),
        PinningCheck(
            settings.pinned_bucket,
            retain_days=settings.pin_retention_days,
            mode=settings.pin_lock_mode,
            gate_key_pem=gate_key,
        ),
    ]


def build_app(settings: ValidatorSettings) -> FastAPI:
    setup_telemetry(settings, version=VERSION)
    readiness = Readiness()
    topics = Topics(prefix=settings.topic_prefix)
    broker = create_broker(settings)
    event_signer = build_event_signer(settings)
    publisher = EventPublisher(broker, topics, source="/modelgate/validator", signer=event_signer)
    checks = build_checks(settings)

    verifier = build_verifier(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            # Model servers left by a validator that was killed (SIGKILL, OOM) before it could
            # stop them hold memory and GPUs: stop them before taking new work.
            await asyncio.to_thread(server_pids(settings).reap_orphans)
            pool = await stack.enter_async_context(
                runtime.postgres(
                    settings.database_url.get_secret_value(),
                    readiness,
                    schema=SCHEMA,
                    owner_url=settings.database_owner_url,
                    api_keys=verifier.api_keys,
                )
            )
            # One attempt per call: the reader's own bounded backoff does the retrying.
            s3 = await stack.enter_async_context(runtime.s3(settings, readiness, retries=1))
            await runtime.pinned_bucket(s3, settings)
            http = await stack.enter_async_context(object_session(s3))
            reader = ArtifactReader(
                s3,
                http,
                attempts=settings.s3_attempts,
                backoff_initial_s=settings.s3_backoff_initial_s,
                backoff_max_s=settings.s3_backoff_max_s,
                chunk_bytes=settings.read_chunk_bytes,
            )
            work_dir = settings.work_dir / str(os.getpid())
            handler = SubmissionHandler(
                Validation(checks, reader, work_dir), ValidationRepository(pool), publisher
            )
            await stack.enter_async_context(
                runtime.consumer(
                    settings,
                    readiness,
                    publisher,
                    service="validator",
                    accepts=[SUBMITTED],
                    handler=handler,
                    oidc=verifier.oidc,
                )
            )
            yield

    return create_app(
        title="modelgate-validator",
        version=VERSION,
        description="Checks each submission (policy, integrity, format safety, benchmark) and "
        "publishes `model.validated`. HTTP: health and metrics only.",
        verifier=verifier,
        readiness=readiness,
        lifespan=lifespan,
    )
