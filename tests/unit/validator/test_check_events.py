"""With tracing on, each check's outcome is an event on the submission's span (no span per
check); with it off the checks run the same and record nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast
from uuid import uuid4

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from modelgate_shared.events import Verdict
from modelgate_shared.telemetry import tracing
from modelgate_testkit.factories import submitted
from modelgate_validator.checks.base import CheckContext, Outcome
from modelgate_validator.pipeline import Validation


class _Fixed:
    needs_storage = False

    def __init__(self, name: str, outcome: Outcome) -> None:
        self.name = name
        self.outcome = outcome

    async def run(self, ctx: CheckContext) -> Outcome:
        return self.outcome


CHECKS = [
    _Fixed("policy", Outcome.passed("card complete")),
    _Fixed("integrity", Outcome.failed("sha256 of model.safetensors is not the declared one")),
]


def _validation(tmp_path: Path) -> Validation:
    return Validation(CHECKS, cast("Any", None), tmp_path)


async def test_each_checks_outcome_is_an_event_of_the_current_span(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    with tracing.tracer().start_as_current_span("model.submitted process"):
        validated = await _validation(tmp_path).run(submitted("m", "1.0.0"), uuid4())
    assert validated.verdict == Verdict.FAILED
    (span,) = spans.get_finished_spans()  # no span per check
    events = [(e.name, dict(e.attributes or {})) for e in span.events]
    assert [name for name, _ in events] == ["check policy", "check integrity"]
    policy, integrity = (attributes for _, attributes in events)
    assert policy["modelgate.check.status"] == "passed"
    assert "modelgate.check.detail" not in policy
    assert integrity["modelgate.check.status"] == "failed"
    assert integrity["modelgate.check.detail"] == CHECKS[1].outcome.detail
    assert isinstance(integrity["modelgate.check.duration_ms"], float)


async def test_untraced_checks_record_no_events(tmp_path: Path) -> None:
    validated = await _validation(tmp_path).run(submitted("m", "1.0.0"), uuid4())
    assert [c.status.value for c in validated.checks] == ["passed", "failed"]
