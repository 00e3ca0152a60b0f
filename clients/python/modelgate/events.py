"""Following the registry's events on Kafka (`modelgate events tail`; needs the `events`
extra: `pip install "modelgate[events]"`).

Kafka is authenticated: the connection comes from the same variables the services read,
`KAFKA_BOOTSTRAP_SERVERS`, `KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_MECHANISM`,
`KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD` and `KAFKA_SSL_CAFILE`. The consumer joins a
group of its own (never a service's), from the latest offset unless told otherwise.
"""

from __future__ import annotations

import json
import os
import secrets
import ssl
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any

from modelgate.errors import ConfigError

REGISTRY_TOPICS = ("model.registered", "model.transitioned", "model.archived")


@dataclass(frozen=True)
class Event:
    topic: str
    offset: int
    cloudevent: dict[str, Any]

    @property
    def data(self) -> dict[str, Any]:
        data = self.cloudevent.get("data")
        return data if isinstance(data, dict) else {}

    def line(self) -> str:
        """One human line: time, type, model and version, who, and what changed."""
        kind = str(self.cloudevent.get("type", "?")).removeprefix("io.modelgate.")
        d = self.data
        change = ""
        if d.get("kind"):
            change = f"{d.get('kind')} {d.get('from_value') or '-'} -> {d.get('to_value')}"
            if d.get("environment"):
                change += f" ({d['environment']})"
        elif d.get("stage"):
            change = f"stage {d['stage']}"
        who = d.get("actor") or d.get("submitter") or "-"
        return (
            f"{self.cloudevent.get('time', '?')}  {kind:<26} "
            f"{d.get('name', '?')} {d.get('version') or ''}  by {who}  {change}".rstrip()
        )


def kafka_options(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    protocol = env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
    options: dict[str, Any] = {
        "bootstrap_servers": env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"),
        "security_protocol": protocol,
    }
    if protocol.startswith("SASL"):
        if not env.get("KAFKA_SASL_USERNAME") or not env.get("KAFKA_SASL_PASSWORD"):
            raise ConfigError(
                f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME and "
                "KAFKA_SASL_PASSWORD"
            )
        options |= {
            "sasl_mechanism": env.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
            "sasl_plain_username": env["KAFKA_SASL_USERNAME"],
            "sasl_plain_password": env["KAFKA_SASL_PASSWORD"],
        }
    if protocol.endswith("SSL"):
        options["ssl_context"] = ssl.create_default_context(cafile=env.get("KAFKA_SSL_CAFILE"))
    return options


async def tail(
    topics: list[str],
    *,
    prefix: str = "",
    group: str | None = None,
    from_beginning: bool = False,
    env: Mapping[str, str] | None = None,
) -> AsyncGenerator[Event, None]:
    """Every event on `topics` as it arrives; what is not a JSON CloudEvent is skipped."""
    try:
        from aiokafka import AIOKafkaConsumer  # noqa: PLC0415 (an optional extra)
    except ImportError as exc:
        raise ConfigError('events need the extra: pip install "modelgate[events]"') from exc
    consumer = AIOKafkaConsumer(
        *[prefix + t for t in topics],
        group_id=group or f"modelgate-cli-{secrets.token_hex(4)}",
        auto_offset_reset="earliest" if from_beginning else "latest",
        enable_auto_commit=True,
        **kafka_options(env),
    )
    await consumer.start()
    try:
        async for message in consumer:
            try:
                event = json.loads(message.value or b"")
            except ValueError:
                continue
            if isinstance(event, dict):
                yield Event(message.topic.removeprefix(prefix), message.offset, event)
    finally:
        await consumer.stop()
