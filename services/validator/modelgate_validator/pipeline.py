"""One validation: run the checks in order, time each, and reach a verdict."""

from __future__ import annotations

import functools
import logging
import shutil
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

from opentelemetry import trace
from prometheus_client import Counter, Histogram

from modelgate_shared.events import (
    CheckResult,
    CheckStatus,
    ModelSubmitted,
    ModelValidated,
    Verdict,
)
from modelgate_shared.telemetry.metrics import LATENCY_BUCKETS, STAGE_DURATION, exemplar
from modelgate_shared.telemetry.tracing import tracing_enabled
from modelgate_validator import storage_failures
from modelgate_validator.artifact_reader import ArtifactReader, StorageUnavailable
from modelgate_validator.checks.base import Check, CheckContext, Outcome
from modelgate_validator.files import SubmissionFiles

log = logging.getLogger(__name__)

VERDICTS = Counter("modelgate_verdicts_total", "Validations finished, by verdict", ["verdict"])
CHECK_RESULTS = Counter(
    "modelgate_check_results_total", "Check outcomes, by check and status", ["check", "status"]
)
CHECK_DURATION = Histogram(
    "modelgate_check_duration_seconds", "Time of one check", ["check"], buckets=LATENCY_BUCKETS
)
# Each labelled child looked up once: `labels()` takes a lock and checks its values on every
# call, twice per check per submission. Label values are the checks' names and statuses.
_check_result = functools.cache(CHECK_RESULTS.labels)
_check_duration = functools.cache(CHECK_DURATION.labels)


def _record_check(name: str, outcome: Outcome, took_s: float) -> None:
    """The check's outcome as an event on the current span (the submission's process span).

    An event, not a span per check: starting and ending a span costs the SDK about four
    times the CPU of adding an event (12 vs 2.7 µs), the checks other than the artifact
    reads take well under a millisecond (policy about 0.07 ms), and in a profile of
    `bench/tracing_overhead.py` the four check spans were over half of the validator's
    tracing samples. The artifact's reads keep their `S3.GetObject` spans."""
    attributes: dict[str, str | float] = {
        "modelgate.check.name": name,
        "modelgate.check.status": outcome.status.value,
        "modelgate.check.duration_ms": round(took_s * 1000, 3),
    }
    if outcome.status is not CheckStatus.PASSED and outcome.detail:
        attributes["modelgate.check.detail"] = outcome.detail[:500]
    trace.get_current_span().add_event(f"check {name}", attributes)


class Validation:
    def __init__(
        self,
        checks: Sequence[Check],
        reader: ArtifactReader,
        work_dir: Path,
        *,
        small_file_bytes: int = 8 * 1024 * 1024,
    ) -> None:
        self.checks = checks
        self.reader = reader
        self.work_dir = work_dir
        self.small_file_bytes = small_file_bytes

    async def run(self, submission: ModelSubmitted, submitted_event_id: UUID) -> ModelValidated:
        scratch = self.work_dir / f"{submission.submission_id}-{uuid4().hex[:8]}"
        ctx = CheckContext(
            submission=submission,
            reader=self.reader,
            files=SubmissionFiles(self.reader, self.small_file_bytes),
            scratch=scratch,
            event_id=submitted_event_id,
        )
        started = time.perf_counter()
        try:
            for check in self.checks:
                began = time.perf_counter()
                outcome = await self._run_one(check, ctx)
                took = time.perf_counter() - began
                if tracing_enabled():
                    _record_check(check.name, outcome, took)
                _check_result(check.name, outcome.status.value).inc()
                _check_duration(check.name).observe(took)
                ctx.results.append(
                    CheckResult(
                        name=check.name,
                        status=outcome.status,
                        detail=outcome.detail[:16000],
                        duration_ms=round(took * 1000, 3),
                    )
                )
        finally:
            if scratch.exists():
                shutil.rmtree(scratch, ignore_errors=True)
        verdict = Verdict.FAILED if ctx.earlier_failed else Verdict.PASSED
        VERDICTS.labels(verdict.value).inc()
        STAGE_DURATION.labels("validator.validate").observe(
            time.perf_counter() - started, exemplar()
        )
        return ModelValidated(
            submission=submission,
            submitted_event_id=submitted_event_id,
            verdict=verdict,
            checks=ctx.results,
            benchmark=ctx.benchmark,
            certified_hardware_profiles=ctx.certified_profiles,
            validated_at=datetime.now(UTC),
            signer=ctx.signer,
            pinned=ctx.pinned if verdict == Verdict.PASSED else None,
        )

    async def _run_one(self, check: Check, ctx: CheckContext) -> Outcome:
        if check.needs_storage and ctx.storage_error is not None:
            return Outcome.skipped(f"not run: {ctx.storage_error}")
        try:
            return await check.run(ctx)
        except storage_failures.EXPECTED as exc:
            if isinstance(exc, StorageUnavailable):
                ctx.storage_error = str(exc)
            detail = storage_failures.describe(exc)
            submission = ctx.submission
            log.warning(
                "check %s failed on submission %s (%s %s): %s",
                check.name,
                submission.submission_id,
                submission.name,
                submission.version,
                detail,
            )
            return Outcome.failed(detail)
        except Exception as exc:
            # A crashing check must not crash the consumer; it fails this submission, visibly.
            log.exception("check %s crashed on %s", check.name, ctx.submission.submission_id)
            return Outcome.failed(f"check crashed: {type(exc).__name__}: {exc}")
