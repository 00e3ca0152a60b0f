"""What the validator does with each `model.submitted`: validate once, answer once."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from uuid import NAMESPACE_URL, UUID, uuid5

from modelgate_shared.events import VALIDATED, ModelSubmitted, encode
from modelgate_shared.events.codec import headers_for
from modelgate_shared.kafka.consumer import Received
from modelgate_shared.kafka.publisher import EventPublisher
from modelgate_shared.telemetry.tracing import trace_headers_of
from modelgate_validator.pipeline import Validation
from modelgate_validator.repository import ValidationRepository

log = logging.getLogger(__name__)
_VALIDATED_IDS = uuid5(NAMESPACE_URL, "https://modelgate.dev/ids/model.validated")


def validated_event_id(submitted_event_id: UUID) -> UUID:
    """The same submission event always gets the same answer id, even if validated twice."""
    return uuid5(_VALIDATED_IDS, str(submitted_event_id))


class SubmissionHandler:
    def __init__(
        self, validation: Validation, repository: ValidationRepository, publisher: EventPublisher
    ) -> None:
        self.validation = validation
        self.repository = repository
        self.publisher = publisher

    async def __call__(self, batch: Sequence[Received]) -> None:
        # One model's events stay in order; different models are validated side by side.
        by_model: dict[bytes | None, list[Received]] = defaultdict(list)
        for item in batch:
            by_model[item.record.key].append(item)
        await asyncio.gather(*(self._in_order(items) for items in by_model.values()))

    async def _in_order(self, items: list[Received]) -> None:
        for item in items:
            with item.traced():
                await self.handle(item)

    async def handle(self, item: Received) -> None:
        submission = item.event.data
        assert isinstance(submission, ModelSubmitted)
        answer_id = validated_event_id(item.event.id)
        claim = await self.repository.claim(item.event.id, submission.submission_id, answer_id)
        if claim.state == "published":
            log.info("already answered %s (redelivery)", item.event.id)
            return
        if claim.state == "ready" and claim.result is not None:
            payload = claim.result.encode()
        else:
            validated = await self.validation.run(submission, item.event.id)
            event = VALIDATED.envelope(
                id=answer_id,
                source="/modelgate/validator",
                type=VALIDATED.type,
                subject=item.event.subject,
                dataschema=VALIDATED.dataschema,
                data=validated,
            )
            payload = encode(event)
            await self.repository.store_result(item.event.id, payload.decode())
        headers = {**headers_for(VALIDATED.type, answer_id), **_trace_headers(item)}
        await self.publisher.publish_raw(
            self.publisher.topics.validated,
            key=submission.name.encode(),
            value=payload,
            headers=headers,
        )
        await self.repository.mark_published(item.event.id)


def _trace_headers(item: Received) -> dict[str, str]:
    """The submission's trace context, carried on as it came. With tracing on, the broker's
    middleware replaces it with our own publish span (a child of this event's process span)."""
    return trace_headers_of(item.headers)
