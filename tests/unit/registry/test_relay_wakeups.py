"""The outbox relay drains again at once for a row committed while it was draining."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import pytest

from modelgate_registry.relay import OutboxRelay


class _Stopped(Exception):
    pass


class _Connection:
    async def execute(self, *_: Any) -> str:
        return "DELETE 0"


class _NotifiedWhileDraining(OutboxRelay):
    """The first drain reads nothing, and a row commits (its NOTIFY arrives) before the
    drain is done; the second drain is when the relay went back for it."""

    def __init__(self) -> None:
        super().__init__("postgresql://unused", publisher=None, poll_s=5.0)  # type: ignore[arg-type]
        self.drains: list[float] = []

    async def drain(self, conn: asyncpg.Connection) -> int:
        self.drains.append(time.monotonic())
        if len(self.drains) == 1:
            self._wake.set()  # what the NOTIFY listener does
            return 0
        raise _Stopped


async def test_a_notify_during_a_drain_is_not_lost() -> None:
    relay = _NotifiedWhileDraining()
    with pytest.raises(_Stopped):  # the second drain came before the 3 s timeout
        await asyncio.wait_for(relay._relay(_Connection()), timeout=3.0)  # type: ignore[arg-type]
    first, second = relay.drains
    assert second - first < 1.0  # not the 5 s poll
