"""Polling until a component is ready, with the tail of its log when it is not."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from modelgate_stack.errors import StackError


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_until(
    ready: Callable[[], bool],
    *,
    what: str,
    timeout_s: float,
    log: Path | None = None,
    alive: Callable[[], bool] | None = None,
) -> None:
    deadline = time.monotonic() + timeout_s
    dead_looks = 0
    while time.monotonic() < deadline:
        if ready():
            return
        # Give up early only after two looks in a row: in CI a Kafka just started was once
        # seen as gone by one look and as running by the next.
        dead_looks = dead_looks + 1 if alive is not None and not alive() else 0
        if dead_looks >= 2:
            break
        time.sleep(0.25)
    detail = f"\n--- last lines of {log} ---\n{tail(log)}" if log else ""
    # Why the wait ended, not a third look, which could disagree with the two that ended it.
    state = "exited" if dead_looks >= 2 else f"not ready after {timeout_s:.0f}s"
    raise StackError(f"{what} {state}{detail}")
