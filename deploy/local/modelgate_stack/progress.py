"""One line per step of `make up`, with the time since it began: a first run spends minutes
downloading and building, and a silent terminal for that long reads as a hang."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Progress:
    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.began = time.monotonic()

    def line(self, text: str) -> None:
        if self.enabled:
            print(f"  [{time.monotonic() - self.began:6.1f}s] {text}", flush=True)

    @contextmanager
    def step(self, doing: str, done: str) -> Iterator[None]:
        """`doing` now, `done` with the step's own duration when it ends."""
        self.line(doing)
        started = time.monotonic()
        yield
        self.line(f"{done} ({time.monotonic() - started:.1f}s)")
