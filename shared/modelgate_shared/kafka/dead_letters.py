"""Dead letters: a message no retry can fix goes to `<topic>.dlq` with the reason."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from modelgate_shared.kafka.publisher import EventPublisher
from modelgate_shared.kafka.record import Record
from modelgate_shared.signing.proof import OIDC_TOKEN_HEADER
from modelgate_shared.topics import DLQ_SUFFIX

log = logging.getLogger(__name__)


class DeadLetters:
    def __init__(self, publisher: EventPublisher, group_id: str) -> None:
        self.publisher = publisher
        self.group_id = group_id

    async def send(self, record: Record, reason: str) -> None:
        # The original headers stay (trace context, content type); ours say why and where from.
        # A bearer token never goes on: whoever reads dead letters must not be able to use it.
        headers = {
            k: v.decode("utf-8", "replace")
            for k, v in record.headers or ()
            if k != OIDC_TOKEN_HEADER
        }
        headers.update(
            {
                "dlq-reason": reason[:4000],
                "dlq-original-topic": record.topic,
                "dlq-original-partition": str(record.partition),
                "dlq-original-offset": str(record.offset),
                "dlq-consumer-group": self.group_id,
                "dlq-failed-at": datetime.now(UTC).isoformat(),
            }
        )
        await self.publisher.publish_raw(
            f"{record.topic}{DLQ_SUFFIX}",
            key=record.key,
            value=record.value or b"",
            headers=headers,
        )
        log.warning(
            "dead-lettered %s[%d]@%d: %s", record.topic, record.partition, record.offset, reason
        )
