"""A few PostgreSQL connections for the catalog's hot reads, handed out without a pool's cost.

asyncpg's pool returns a connection through `asyncio.shield` (a task per release) and re-arms
an idle timer each time: measured here, `pool.fetchrow` of `SELECT 1` cost 165 µs of CPU and
860 µs of wall time on the shared machine against 39 µs and 180 µs on a connection held
directly, because each extra turn of the event loop is a chance for the kernel to run someone
else. The hot reads (one autocommit SELECT each, no session state) need none of what the
pool's release does, so they take a connection from a plain free list and put it back.

A connection whose statement failed or was cancelled is closed rather than reused. One that
PostgreSQL ended while it was idle (a restart, a terminated backend) is closed on asyncpg's
side as soon as the socket says so, and is dropped when taken, as asyncpg's pool does, so a
read after a restart opens a fresh connection instead of failing on each dead one in turn.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from modelgate_shared.db.pool import init_connection


class ReadConnections:
    """At most `size` connections to `url`, opened on demand; `fetch` and `fetchrow` as on a
    pool. Statements are prepared once per connection (asyncpg's statement cache)."""

    def __init__(self, url: str, size: int, application_name: str | None = None) -> None:
        self._url = url
        self._size = size
        self._settings = {"application_name": application_name} if application_name else None
        self._idle: list[asyncpg.Connection] = []
        self._waiting: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._open = 0
        self._closed = False

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self._run(asyncpg.Connection.fetchrow, query, args)
        return row

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._run(asyncpg.Connection.fetch, query, args)
        return rows

    async def _run(
        self, method: Callable[..., Awaitable[Any]], query: str, args: tuple[Any, ...]
    ) -> Any:
        conn = await self._take()
        try:
            result = await method(conn, query, *args)
        except BaseException:
            self._discard(conn)
            raise
        self._give(conn)
        return result

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        await asyncio.gather(*(conn.close() for conn in idle), return_exceptions=True)

    async def _take(self) -> asyncpg.Connection:
        if self._closed:
            raise asyncpg.InterfaceError("the read connections are closed")
        while self._idle:
            idle = self._idle.pop()
            if not idle.is_closed():
                return idle
            self._open -= 1  # ended by PostgreSQL while idle: its place is free
        if self._open >= self._size:
            turn: asyncio.Future[asyncpg.Connection | None] = (
                asyncio.get_running_loop().create_future()
            )
            self._waiting.append(turn)
            try:
                handed = await turn
            except asyncio.CancelledError:
                self._return_turn(turn)
                raise
            if handed is not None:
                return handed
            # None: a connection was closed, and its place is ours to open.
        else:
            self._open += 1
        try:
            conn: asyncpg.Connection = await asyncpg.connect(
                self._url, server_settings=self._settings
            )
            await init_connection(conn)
        except BaseException:
            self._free_place()
            raise
        return conn

    def _give(self, conn: asyncpg.Connection) -> None:
        if self._closed or conn.is_closed():
            self._discard(conn)
            return
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(conn)
                return
        self._idle.append(conn)

    def _discard(self, conn: asyncpg.Connection) -> None:
        conn.terminate()
        self._free_place()

    def _free_place(self) -> None:
        """One connection fewer: a waiter may open one in its place."""
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._open -= 1

    def _return_turn(self, turn: asyncio.Future[asyncpg.Connection | None]) -> None:
        """A waiter cancelled: what it was handed goes to the next one."""
        if turn.cancelled() or not turn.done():
            return
        handed = turn.result()
        if handed is None:
            self._free_place()
        else:
            self._give(handed)
