"""What the publisher signs: its own events, never the bytes it only forwards."""

from __future__ import annotations

import asyncio
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from modelgate_shared.events import VALIDATED
from modelgate_shared.kafka.publisher import EventPublisher
from modelgate_shared.signing import KEY_ID_HEADER, SIGNATURE_HEADER, EventSigner
from modelgate_shared.topics import Topics
from modelgate_testkit.factories import validated


async def _published(signer: EventSigner, *, own: bool) -> tuple[bytes, dict[str, Any]]:
    """(value, headers) of one record sent on FastStream's in-memory broker."""
    broker = KafkaBroker()
    got: list[tuple[bytes, dict[str, Any]]] = []

    @broker.subscriber("model.validated")
    async def handle(message: KafkaMessage) -> None:
        got.append((message.body, dict(message.headers)))

    async with TestKafkaBroker(broker):
        publisher = EventPublisher(broker, Topics(), source="/tests", signer=signer)
        if own:
            await publisher.publish(VALIDATED, validated(), key="m", subject="m/1.0.0")
        else:  # a dead letter: someone else's record, forwarded
            await publisher.publish_raw("model.validated", key=b"m", value=b"{}", headers={})
        await asyncio.sleep(0)
    (record,) = got
    return record


async def test_an_event_of_its_own_goes_out_signed_over_its_exact_bytes() -> None:
    signer = EventSigner(Ed25519PrivateKey.generate())
    value, headers = await _published(signer, own=True)
    assert headers[KEY_ID_HEADER] == signer.key_id
    assert headers[SIGNATURE_HEADER] == signer.headers(value)[SIGNATURE_HEADER]


async def test_forwarded_bytes_are_not_signed_by_the_forwarder() -> None:
    _, headers = await _published(EventSigner(Ed25519PrivateKey.generate()), own=False)
    assert SIGNATURE_HEADER not in headers
