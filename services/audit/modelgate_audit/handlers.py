"""What the audit service does with every model.* event: append it to the chain, once."""

from __future__ import annotations

from collections.abc import Sequence

from modelgate_audit.appender import AuditLog, event_json
from modelgate_shared.kafka.consumer import Received


class AuditHandler:
    def __init__(self, log: AuditLog, topic_prefix: str) -> None:
        self.log = log
        self.topic_prefix = topic_prefix

    async def __call__(self, batch: Sequence[Received]) -> None:
        await self.log.append(
            [
                (
                    item.record.topic.removeprefix(self.topic_prefix),
                    event_json(
                        item.record.value, item.event.model_dump(mode="json", exclude_none=True)
                    ),
                )
                for item in batch
            ]
        )
