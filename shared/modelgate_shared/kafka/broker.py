"""The FastStream Kafka broker every service builds from its settings."""

from __future__ import annotations

import logging

from faststream.kafka import KafkaBroker

from modelgate_shared.settings import ServiceSettings


def create_broker(settings: ServiceSettings) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"modelgate-{settings.service_name}",
        # Idempotent producer (acks=all): a retried send never duplicates in the log.
        enable_idempotence=True,
        linger_ms=2,
        max_request_size=2 * 1024 * 1024,
        graceful_timeout=15.0,
        # FastStream logs every message at INFO; at our rates that is the whole CPU budget.
        log_level=logging.DEBUG,
        logger=logging.getLogger(f"modelgate.{settings.service_name}.kafka"),
    )
