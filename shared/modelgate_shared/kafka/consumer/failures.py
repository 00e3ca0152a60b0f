"""Handler failures: transient ones retried with backoff, the rest isolated to one event that
becomes a dead letter (`<topic>.dlq`, with the reason), so consumption goes on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client import Counter

from modelgate_shared.kafka.consumer.config import ConsumerConfig
from modelgate_shared.kafka.consumer.received import Handler, Received, Rejected
from modelgate_shared.kafka.dead_letters import DeadLetters
from modelgate_shared.kafka.record import Record
from modelgate_shared.telemetry.kafka import ProcessSpan
from modelgate_shared.telemetry.tracing import tracing_enabled
from modelgate_shared.transient import is_transient

T = TypeVar("T")

log = logging.getLogger(__name__)

DEAD_LETTERED = Counter("modelgate_dead_letters_total", "Events sent to a DLQ", ["group", "topic"])
RETRIES = Counter("modelgate_handler_retries_total", "Transient failures retried", ["group"])


@dataclass
class Health:
    """Whether the last attempt at the handler's dependencies worked (for /readyz)."""

    failing_since: float | None = None
    last_error: str = ""

    async def check(self) -> None:
        if self.failing_since is not None:
            raise RuntimeError(f"retrying since {self.failing_since:.0f}: {self.last_error}")


class Failures:
    """Runs the handler on a batch until it is done: nothing is skipped while a dependency
    is away, and an event that can never be processed is dead-lettered alone."""

    def __init__(self, config: ConsumerConfig, handler: Handler, dead_letters: DeadLetters):
        self.config = config
        self.handler = handler
        self.dead_letters = dead_letters
        self.health = Health()

    async def handle(self, batch: Sequence[Received]) -> None:
        try:
            await self.retrying(lambda: self.handler(batch))
            return
        except Exception as exc:
            if len(batch) == 1:
                await self.dead_letter(batch[0].record, _reason(exc), batch[0].span)
                return
        # Something in the batch can never be processed: find it by going one at a time.
        for item in batch:
            try:
                await self.retrying(lambda item=item: self.handler([item]))  # type: ignore[misc]
            except Exception as exc:
                await self.dead_letter(item.record, _reason(exc), item.span)

    async def retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """`attempt` until it works (its result) or fails with an error that is not transient."""
        delay = self.config.retry_initial_s
        loop = asyncio.get_running_loop()
        while True:
            try:
                result = await attempt()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                RETRIES.labels(self.config.group_id).inc()
                if self.health.failing_since is None:
                    self.health.failing_since = loop.time()
                self.health.last_error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning(
                    "transient failure, retrying in %.1fs: %s", delay, self.health.last_error
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.retry_max_s)
            else:
                self.health.failing_since = None
                return result

    async def dead_letter(
        self, record: Record, reason: str, span: ProcessSpan | None = None
    ) -> None:
        if span is None and tracing_enabled():
            # Made now: a consumer with trace_records=False made none when the record came.
            span = ProcessSpan(record, self.config.group_id)
        if span is None:
            await self.retrying(lambda: self.dead_letters.send(record, reason))
        else:
            span.fail(reason)
            with span.current():
                await self.retrying(lambda: self.dead_letters.send(record, reason))
            span.event("dead-lettered", reason=reason[:500])
            span.end()
        DEAD_LETTERED.labels(self.config.group_id, record.topic).inc()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, Rejected):
        return exc.reason
    return f"handler failed: {type(exc).__name__}: {exc}"
