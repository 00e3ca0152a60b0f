"""What the validator does with each `model.submitted`: validate once, answer once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from uuid import NAMESPACE_URL, UUID, uuid5

from modelgate_shared.events import VALIDATED, ModelSubmitted, encode
from modelgate_shared.events.codec import headers_for
from modelgate_shared.kafka.consumer import Received
from modelgate_shared.kafka.publisher import EventPublisher
from modelgate_shared.telemetry.tracing import trace_headers_of
from modelgate_validator.pipeline import Validation
from modelgate_validator.repository import Claim, ValidationRepository

log = logging.getLogger(__name__)
_VALIDATED_IDS = uuid5(NAMESPACE_URL, "https://modelgate.dev/ids/model.validated")
STORE_AT_ONCE_S = 2.0
"""A validation that took this long (a benchmark) is stored as soon as it ends, not with its
batch: a crash must not throw minutes of work away."""


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
        claims = await self.repository.claim(
            [
                (i.event.id, i.event.data.submission_id, validated_event_id(i.event.id))
                for i in batch
            ]
        )
        answers: dict[UUID, bytes] = {}
        unstored: list[tuple[UUID, str]] = []

        async def in_order(items: list[Received]) -> None:
            for item in items:
                with item.traced():
                    answer = await self._answer(item, claims[item.event.id])
                if answer is None:
                    continue
                payload, stored = answer
                answers[item.event.id] = payload
                if not stored:
                    unstored.append((item.event.id, payload.decode()))

        # One model's submissions stay in order; different models are validated side by side.
        by_model: dict[bytes | None, list[Received]] = defaultdict(list)
        for item in batch:
            by_model[item.record.key].append(item)
        await asyncio.gather(*(in_order(items) for items in by_model.values()))

        await self.repository.store_results(unstored)

        async def send(item: Received, payload: bytes) -> None:
            submission = item.event.data
            assert isinstance(submission, ModelSubmitted)
            headers = {
                **headers_for(VALIDATED.type, validated_event_id(item.event.id)),
                **_trace_headers(item),
            }
            with item.traced():  # the publish span's parent is this submission's process span
                await self.publisher.publish_raw(
                    self.publisher.topics.validated,
                    key=submission.name.encode(),
                    value=payload,
                    headers=headers,
                    sign=True,  # stored bytes: signed as they go out, by this validator
                )

        # All sent at once; the idempotent producer keeps each partition's order in flight.
        await asyncio.gather(
            *(send(i, answers[i.event.id]) for i in batch if i.event.id in answers)
        )
        await self.repository.mark_published(list(answers))

    async def _answer(self, item: Received, claim: Claim) -> tuple[bytes, bool] | None:
        """(model.validated bytes, whether they are stored already), or None if this
        submission was answered before (a redelivery)."""
        if claim.state == "published":
            log.info("already answered %s (redelivery)", item.event.id)
            return None
        if claim.state == "ready" and claim.result is not None:
            return claim.result.encode(), True
        submission = item.event.data
        assert isinstance(submission, ModelSubmitted)
        began = time.monotonic()
        validated = await self.validation.run(submission, item.event.id)
        event = VALIDATED.envelope(
            id=validated_event_id(item.event.id),
            source="/modelgate/validator",
            type=VALIDATED.type,
            subject=item.event.subject,
            dataschema=VALIDATED.dataschema,
            data=validated,
        )
        payload = encode(event)
        if time.monotonic() - began > STORE_AT_ONCE_S:
            await self.repository.store_results([(item.event.id, payload.decode())])
            return payload, True
        return payload, False


def _trace_headers(item: Received) -> dict[str, str]:
    """The submission's trace context, carried on as it came. With tracing on, the publisher
    replaces it with its publish span's (a child of this event's process span)."""
    return trace_headers_of(item.headers)
