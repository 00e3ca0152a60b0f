"""Property-based fuzzing of an HTTP API from its OpenAPI document (schemathesis + hypothesis).

`fuzz_api` generates requests for every operation of the document (valid and invalid data),
each sent with one role's bearer token, and checks every answer: no 5xx, a status code the
document lists, and a body that matches the documented schema. It returns what failed, one
line per distinct failure, rather than stopping at the first: the caller asserts the list is
empty.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from modelgate_testkit.services import ServiceProcess

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
CRASH_MARKS = ("Traceback", "Exception in ASGI application")


def examples_per_operation(default: int = 5) -> int:
    """MODELGATE_FUZZ_EXAMPLES: examples per operation and generation mode (`make fuzz`: more)."""
    return int(os.environ.get("MODELGATE_FUZZ_EXAMPLES", default))


def log_size(service: ServiceProcess) -> int:
    """Where a service's log ends now: what it writes from here on is what `crashes` reads."""
    try:
        return int(service.log.stat().st_size)
    except OSError:
        return 0


def crashes(service: ServiceProcess, start: int) -> tuple[list[str], str]:
    """The crash marks (a traceback) in what `service` logged since `start`, and that text."""
    with service.log.open("rb") as log:
        log.seek(start)
        written = log.read().decode(errors="replace")
    return [mark for mark in CRASH_MARKS if mark in written], written


@dataclass
class FuzzReport:
    examples: int = 0
    """Requests sent."""
    operations: int = 0
    failures: list[str] = field(default_factory=list)


def fuzz_api(
    document: dict[str, Any],
    base_url: str,
    roles: Mapping[str, Mapping[str, str]],
    *,
    examples: int,
    prefix: str = "",
    exclude: tuple[str, ...] = (),
) -> FuzzReport:
    """Fuzz every operation of `document` whose path starts with `prefix` (but not with one
    in `exclude`) against `base_url`; each example picks one role of `roles`, whose headers
    it sends."""
    schema = schemathesis.openapi.from_dict(document)
    report = FuzzReport()
    session = requests.Session()
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            report.failures.append(f"the document does not load: {result.err()}")
            continue
        operation = result.ok()
        if not operation.path.startswith(prefix) or operation.path.startswith(exclude):
            continue
        report.operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # Negative mode has nothing to make invalid where there are no parameters.
            with contextlib.suppress(Unsatisfiable):
                _fuzz_operation(
                    operation,
                    mode,
                    base_url=base_url,
                    session=session,
                    roles=roles,
                    examples=examples,
                    report=report,
                )
    return report


def _fuzz_operation(
    operation: APIOperation[Any, Any, Any, Any],
    mode: GenerationMode,
    *,
    base_url: str,
    session: requests.Session,
    roles: Mapping[str, Mapping[str, str]],
    examples: int,
    report: FuzzReport,
) -> None:
    seen: set[str] = set()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), role=st.sampled_from(sorted(roles)))
    def one(case: schemathesis.Case[Any], role: str) -> None:
        report.examples += 1
        label = f"{case.method} {case.path} as {role} ({mode.value})"
        try:
            response = case.call(
                base_url=base_url, session=session, headers=dict(roles[role]), timeout=30
            )
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as failure:  # every failure is reported
            key = f"{label}: {type(failure).__name__} {str(failure)[:120]}"
            if key not in seen:
                seen.add(key)
                report.failures.append(f"{label}: {failure}".replace("\n", " | ")[:1500])

    one()
