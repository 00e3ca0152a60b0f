"""The lifecycle of a registered version: which stage moves are allowed."""

from __future__ import annotations

from modelgate_shared.events import Stage

# Forward through the lifecycle, or back for a rollback. Promotion to production needs the
# admin role (and, with four-eyes on, someone other than the submitter).
ALLOWED: dict[Stage, frozenset[Stage]] = {
    Stage.DEVELOPMENT: frozenset({Stage.STAGING}),
    Stage.STAGING: frozenset({Stage.DEVELOPMENT, Stage.CANARY, Stage.PRODUCTION}),
    Stage.CANARY: frozenset({Stage.STAGING, Stage.PRODUCTION}),
    Stage.PRODUCTION: frozenset({Stage.CANARY, Stage.DEPRECATED}),
    Stage.DEPRECATED: frozenset({Stage.STAGING, Stage.PRODUCTION}),
}


def move_problem(current: Stage, target: Stage) -> str | None:
    if target == current:
        return f"the version is already in {current}"
    if target not in ALLOWED[current]:
        allowed = ", ".join(sorted(ALLOWED[current]))
        return f"cannot move from {current} to {target}; from {current} it may go to: {allowed}"
    return None
