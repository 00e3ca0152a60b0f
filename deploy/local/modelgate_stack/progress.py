"""One line per step of `make up`, with the time since it began: a first run spends minutes
downloading and building, and a silent terminal for that long reads as a hang."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    """A step that may run beside others: `doing` is None when there is nothing to say (it
    only checks what is cached)."""

    name: str
    doing: str | None
    run: Callable[[], None]


class Progress:
    def __init__(self, *, enabled: bool = True, heartbeat_s: float = 30.0) -> None:
        self.enabled = enabled
        self.heartbeat_s = heartbeat_s
        self.began = time.monotonic()
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        if self.enabled:
            with self._lock:
                print(f"  [{time.monotonic() - self.began:6.1f}s] {text}", flush=True)

    @contextmanager
    def step(self, doing: str, done: str) -> Iterator[None]:
        """`doing` now, `done` with the step's own duration when it ends."""
        self.line(doing)
        started = time.monotonic()
        yield
        self.line(f"{done} ({time.monotonic() - started:.1f}s)")

    def parallel(self, jobs: Sequence[Job]) -> None:
        """Run `jobs` side by side. Each one with something to say gets a line when it starts
        and one when it is done, and while any runs, a line every `heartbeat_s` names those
        still running: a build of several minutes never leaves the terminal silent. The first
        failure is raised once every job has ended."""
        if not jobs:
            return
        started = time.monotonic()
        with ThreadPoolExecutor(len(jobs)) as pool:
            running: dict[Future[None], Job] = {}
            for job in jobs:
                if job.doing:
                    self.line(f"{job.name}: {job.doing}")
                running[pool.submit(job.run)] = job
            failure: BaseException | None = None
            while running:
                done, _ = wait(running, timeout=self.heartbeat_s, return_when=FIRST_COMPLETED)
                for future in done:
                    job = running.pop(future)
                    error = future.exception()
                    if error is not None:
                        failure = failure or error
                        self.line(f"{job.name}: failed ({error})"[:300])
                    elif job.doing:
                        self.line(f"{job.name}: done ({time.monotonic() - started:.1f}s)")
                talking = [job.name for job in running.values() if job.doing]
                if not done and talking:
                    elapsed = time.monotonic() - started
                    self.line(f"still working ({elapsed:.0f}s): {', '.join(talking)}")
        if failure is not None:
            raise failure
