"""`kill -USR1 <pid>`: log what every asyncio task of a running service is waiting on.

A consumer that stops making progress without raising anything (an await that never
returns) leaves no trace in the logs; this shows, for each task, the chain of coroutines it is
suspended in, down to the future it awaits. It only reads frames: safe on a live process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Generator
from typing import Any

log = logging.getLogger(__name__)


def await_chain(coro: Coroutine[Any, Any, Any] | Generator[Any, Any, Any] | None) -> list[str]:
    """`file:line function` of each coroutine from `coro` down, then what the last awaits."""
    chain: list[str] = []
    current: Any = coro
    while current is not None:
        frame = getattr(current, "cr_frame", None) or getattr(current, "gi_frame", None)
        if frame is None:
            if not hasattr(current, "cr_code") and not hasattr(current, "gi_code"):
                chain.append(f"awaiting {current!r}"[:300])
            break
        owner = frame.f_locals.get("self")
        # The owner's identity tells apart, say, the producer's and the consumer's clients.
        of = f" [{type(owner).__name__}@{id(owner):x}]" if owner is not None else ""
        client = getattr(owner, "_client", None)
        if client is not None:
            of += f" [client {type(client).__name__}@{id(client):x}]"
        chain.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}{of}")
        current = getattr(current, "cr_await", None) or getattr(current, "gi_yieldfrom", None)
    return chain


def dump_tasks() -> None:
    tasks = asyncio.all_tasks()
    log.warning("task dump: %d tasks", len(tasks))
    for task in sorted(tasks, key=lambda t: t.get_name()):
        chain = await_chain(task.get_coro())
        log.warning("task %s\n  %s", task.get_name(), "\n  ".join(chain))
