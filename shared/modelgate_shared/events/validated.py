"""`model.validated`: the validator's verdict on one submission."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from modelgate_shared.events.common import BenchmarkResult, CheckResult, Contract
from modelgate_shared.events.fields import ShortText
from modelgate_shared.events.submitted import ModelSubmitted


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"


class ModelValidated(Contract):
    submission: ModelSubmitted
    """The submission as validated; carried whole so the registry can register from this event
    alone, whatever order it reads the two topics in."""
    submitted_event_id: UUID
    """CloudEvents id of the `model.submitted` event this answers."""
    verdict: Verdict
    checks: list[CheckResult]
    """Every check in the order it ran, with status, detail and duration."""
    benchmark: BenchmarkResult | None = None
    """Serving benchmark, when a runner ran one."""
    certified_hardware_profiles: list[ShortText] = Field(default_factory=list)
    """Hardware profiles whose thresholds the benchmark met."""
    validated_at: datetime
