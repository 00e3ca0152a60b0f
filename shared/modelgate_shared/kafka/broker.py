"""The FastStream Kafka broker every service builds from its settings."""

from __future__ import annotations

import logging

from faststream.kafka import KafkaBroker

from modelgate_shared.settings import ServiceSettings


def create_broker(settings: ServiceSettings) -> KafkaBroker:
    """The broker. (Publish spans and `traceparent` headers are `EventPublisher`'s.)"""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        # SASL/TLS as the environment says (KAFKA_SECURITY_PROTOCOL, ...), as its own principal.
        security=settings.kafka.faststream_security(),
        client_id=f"modelgate-{settings.service_name}",
        # Topics are ensure_topics' (runtime.kafka) or the operator's: no service principal
        # may create topics, and FastStream's own attempt warned once per topic at each start.
        allow_auto_create_topics=False,
        # Idempotent producer (acks=all): a retried send never duplicates in the log.
        enable_idempotence=True,
        linger_ms=2,
        # A partition has one batch in flight (idempotence): at aiokafka's 16 KiB a batch held
        # three or four verdicts, and every further send to that partition waited for a round
        # trip (22,820 drain waits for 1,400 verdicts in a profile of the validator at the
        # gate's maximum rate). Within the broker's 1 MiB message limit.
        max_batch_size=256 * 1024,
        max_request_size=2 * 1024 * 1024,
        # aiokafka's metadata task can park a forced refresh until the next periodic one
        # (it re-waits on an unset wake-up while a refresh is still owed, e.g. after a broker
        # restart), and commits and coordinator lookups wait on that refresh: with the default
        # 5 minutes a consumer stalled silently. 10 s bounds such a stall at a small cost (one
        # metadata request per client every 10 s).
        metadata_max_age_ms=10_000,
        graceful_timeout=15.0,
        # The one subscriber (kafka/consumer) takes the batch's records as its only argument:
        # no dependency injection to resolve, which FastStream otherwise does per batch.
        apply_types=False,
        # FastStream logs every message at INFO; at our rates that is the whole CPU budget.
        log_level=logging.DEBUG,
        logger=logging.getLogger(f"modelgate.{settings.service_name}.kafka"),
    )
