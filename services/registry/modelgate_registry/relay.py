"""The outbox relay: publishes committed outbox rows to Kafka, then marks them published.

One relay is active at a time (a PostgreSQL advisory lock held on its connection; a standby
replica takes over when that connection dies), so rows are published in id order. It wakes on
NOTIFY and also polls, because a NOTIFY sent while nobody listens is lost. A crash between
publishing and marking publishes those rows again: consumers drop them by event id. So may a
relay whose session ends while it publishes a batch (PostgreSQL has freed its lock, and a
standby may take over before the batch is sent): it marks nothing and stops.

Each change of role is logged with the process id ("outbox relay active in process N", "outbox
relay stood down in process N") and shown as `modelgate_outbox_relay_active`, so the claim of
one relay at a time can be checked from outside (tests/e2e/test_faults_replicas.py does).

With tracing on, each row's `<topic> publish` span (with the row's `modelgate.outbox.id`) is
the child of the trace context stored with the row, that of the transaction that wrote it,
so the event continues the trace of whatever caused it; the record then carries the publish
span's context. With tracing off the stored headers go out as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import asyncpg
from prometheus_client import Counter, Gauge

from modelgate_shared.db.pool import init_connection
from modelgate_shared.kafka.publisher import EventPublisher
from modelgate_shared.telemetry.metrics import STAGE_DURATION
from modelgate_shared.transient import is_transient

log = logging.getLogger(__name__)

LOCK_KEY = 0x6D67_6F75_7462_6F78  # "mgoutbox": one relay per database
PUBLISHED = Counter("modelgate_outbox_published_total", "Outbox rows published to Kafka")
BACKLOG = Gauge("modelgate_outbox_backlog", "Outbox rows not yet published")
ACTIVE = Gauge(
    "modelgate_outbox_relay_active",
    "1 while this process's outbox relay holds the relay lock (one per database), else 0",
)


class OutboxRelay:
    def __init__(
        self,
        database_url: str,
        publisher: EventPublisher,
        *,
        batch: int = 500,
        poll_s: float = 1.0,
        retention: timedelta = timedelta(days=1),
    ) -> None:
        self.database_url = database_url
        self.publisher = publisher
        self.batch = batch
        self.poll_s = poll_s
        self.retention = retention
        self.active = False
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Relay until cancelled, reconnecting after any PostgreSQL or Kafka outage."""
        delay = 0.2
        while True:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                level = logging.WARNING if is_transient(exc) else logging.ERROR
                log.log(
                    level,
                    "outbox relay interrupted (%s: %s); retrying in %.1fs",
                    type(exc).__name__,
                    exc,
                    delay,
                    exc_info=not is_transient(exc),
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            else:
                delay = 0.2

    async def _session(self) -> None:
        conn = await asyncpg.connect(
            self.database_url, server_settings={"application_name": "modelgate-registry-relay"}
        )
        try:
            await init_connection(conn)
            held = False
            while not held:
                held = await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY)
                if not held:
                    await asyncio.sleep(self.poll_s * 2)  # another replica relays; stand by
            # The lock lives as long as this session: when PostgreSQL ends it (a restart, a
            # terminated backend) the relay is no longer the one, whatever it is awaiting.
            conn.add_termination_listener(lambda _: self._set_active(False))
            self._set_active(True)
            await conn.add_listener("registry_outbox", lambda *_: self._wake.set())
            await self._relay(conn)
        finally:
            self._set_active(False)
            with contextlib.suppress(Exception):
                await conn.close()

    async def _relay(self, conn: asyncpg.Connection) -> None:
        """Drain, then wait for a NOTIFY (or `poll_s`), for as long as the session lasts."""
        cleaned = 0.0
        loop = asyncio.get_running_loop()
        while True:
            # Cleared before the drain reads, not after: a row committed after the drain's
            # SELECT notifies while the drain still publishes, and clearing then lost that
            # wake-up, so the row waited a whole `poll_s`.
            self._wake.clear()
            published = await self.drain(conn)
            if published == self.batch:
                continue  # more waiting: no sleep
            if loop.time() - cleaned > 600:
                await conn.execute(
                    "DELETE FROM registry.outbox WHERE published_at < now() - $1::interval",
                    self.retention,
                )
                cleaned = loop.time()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_s)

    def _set_active(self, active: bool) -> None:
        if active != self.active:
            role = "active" if active else "stood down"
            log.info("outbox relay %s in process %d", role, os.getpid())
        self.active = active
        ACTIVE.set(int(active))

    async def drain(self, conn: asyncpg.Connection) -> int:
        """Publish one batch of unpublished rows in id order; returns how many."""
        rows = await conn.fetch(
            "SELECT id, topic, key, payload, headers, created_at FROM registry.outbox "
            "WHERE published_at IS NULL ORDER BY id LIMIT $1",
            self.batch,
        )
        if rows:
            # All sent at once, all acknowledged before the rows are marked: the idempotent
            # producer keeps each partition's order even with sends in flight.
            await asyncio.gather(*(self._publish(r) for r in rows))
            await conn.execute(
                "UPDATE registry.outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
                [r["id"] for r in rows],
            )
            PUBLISHED.inc(len(rows))
            _observe_delay(rows)
        if len(rows) < self.batch:
            # Fewer than asked for: nothing else was waiting when this batch was read (what
            # committed since wakes the relay again). Counting costs a round trip and a scan.
            BACKLOG.set(0)
        else:
            BACKLOG.set(
                await conn.fetchval(
                    "SELECT count(*) FROM registry.outbox WHERE published_at IS NULL"
                )
            )
        return len(rows)

    async def _publish(self, row: asyncpg.Record) -> None:
        # With tracing on, one span per row, the publish span itself: the `relay publish` span
        # that used to wrap it doubled the relay's tracing cost and said nothing these
        # attributes do not. With it off the publisher ignores the span options.
        headers = dict(row["headers"])
        await self.publisher.publish_raw(
            row["topic"],
            key=row["key"],
            value=row["payload"],
            headers=headers,
            parent_from_headers=True,
            span_attributes={
                "messaging.message.id": headers.get("ce_id", ""),
                "modelgate.outbox.id": row["id"],
            },
        )


def _observe_delay(rows: Sequence[asyncpg.Record]) -> None:
    """Write-to-publish time of each row (clocks of PostgreSQL and this host)."""
    now = datetime.now(UTC)
    stage = STAGE_DURATION.labels("outbox.relay")
    for row in rows:
        stage.observe(max(0.0, (now - row["created_at"]).total_seconds()))
