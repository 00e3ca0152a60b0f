"""The SIGUSR1 task dump names every coroutine a task is suspended in."""

from __future__ import annotations

import asyncio
import logging

import pytest

from modelgate_shared.task_dump import await_chain, dump_tasks


async def test_await_chain_goes_from_the_task_down_to_the_awaited_future() -> None:
    released = asyncio.Event()

    async def inner() -> None:
        await released.wait()

    async def outer() -> None:
        await inner()

    task = asyncio.create_task(outer(), name="probe")
    await asyncio.sleep(0)
    chain = await_chain(task.get_coro())
    assert [line.split()[1] for line in chain[:3]] == ["outer", "inner", "wait"]
    assert "[Event@" in chain[2]
    assert chain[-1].startswith("awaiting")
    released.set()
    await task


async def test_dump_logs_each_task_by_name(caplog: pytest.LogCaptureFixture) -> None:
    task = asyncio.create_task(asyncio.sleep(10), name="sleeper")
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING, logger="modelgate_shared.task_dump"):
        dump_tasks()
    task.cancel()
    assert any(r.getMessage().startswith("task sleeper\n") for r in caplog.records)
