"""Print every model the gate registers: a consumer of `model.registered` (CloudEvents JSON).

    pip install "./clients/python[events]"
    KAFKA_BOOTSTRAP_SERVERS=kafka:9093 KAFKA_SECURITY_PROTOCOL=SASL_SSL \
    KAFKA_SASL_MECHANISM=SCRAM-SHA-512 KAFKA_SASL_USERNAME=my-app KAFKA_SASL_PASSWORD=… \
    python examples/consume_registered.py

Kafka is authenticated: ask the platform team for a principal allowed to read the topic (and
its own consumer group). MODELGATE_TOPIC_PREFIX names a prefixed deployment's topics.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
from typing import Any

from aiokafka import AIOKafkaConsumer


def kafka_options() -> dict[str, Any]:
    """Connection and SASL settings from the environment (PLAINTEXT when none are given)."""
    protocol = os.environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    options: dict[str, Any] = {
        "bootstrap_servers": os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"),
        "security_protocol": protocol,
    }
    if protocol.startswith("SASL"):
        options |= {
            "sasl_mechanism": os.environ.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
            "sasl_plain_username": os.environ["KAFKA_SASL_USERNAME"],
            "sasl_plain_password": os.environ["KAFKA_SASL_PASSWORD"],
        }
    if protocol.endswith("SSL"):
        options["ssl_context"] = ssl.create_default_context(
            cafile=os.environ.get("KAFKA_SSL_CAFILE")
        )
    return options


async def main() -> None:
    topic = os.environ.get("MODELGATE_TOPIC_PREFIX", "") + "model.registered"
    consumer = AIOKafkaConsumer(
        topic,
        group_id=os.environ.get("KAFKA_GROUP_ID", "example-registered-printer"),
        auto_offset_reset="latest",
        **kafka_options(),
    )
    await consumer.start()
    try:
        async for message in consumer:
            try:
                event = json.loads(message.value or b"")
                data = event["data"]
            except (ValueError, KeyError, TypeError):
                continue  # not ours to judge: the gate dead-letters malformed events itself
            print(
                f"{event.get('time')} registered {data['name']} {data['version']} "
                f"({data.get('artifact_uri')}) certified for "
                f"{', '.join(data.get('certified_hardware_profiles', [])) or 'no hardware'}"
            )
    finally:
        await consumer.stop()


if __name__ == "__main__":
    asyncio.run(main())
