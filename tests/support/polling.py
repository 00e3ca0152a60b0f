"""Waiting for an asynchronous outcome without guessing how fast the machine is.

Loops of "try N times, 0.1 s apart" pass on a quick laptop and fail on a loaded CI runner.
`poll` waits on a deadline instead and hands back the last value it saw, so the caller's
assertion still reports what the system actually said when time ran out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 60.0


async def poll(
    fetch: Callable[[], Awaitable[T]],
    until: Callable[[T], bool],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    interval_s: float = 0.1,
) -> T:
    """Call `fetch` until `until(value)` holds or `timeout_s` passes; return the last value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        value = await fetch()
        if until(value) or loop.time() > deadline:
            return value
        await asyncio.sleep(interval_s)


async def until(condition: Callable[[], bool], *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
    """Wait until `condition()` holds (state the test can see without I/O); fail the test
    if `timeout_s` passes first."""

    async def check() -> bool:
        return condition()

    assert await poll(check, bool, timeout_s=timeout_s), f"not true after {timeout_s:.0f}s"
