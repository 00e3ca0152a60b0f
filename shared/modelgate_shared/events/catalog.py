"""The event types of the contract: type string, topic and data model of each."""

from __future__ import annotations

import builtins
import functools
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from modelgate_shared import topics
from modelgate_shared.events.envelope import CloudEvent
from modelgate_shared.events.lifecycle import ModelArchived, ModelRegistered, ModelTransitioned
from modelgate_shared.events.submitted import ModelSubmitted
from modelgate_shared.events.validated import ModelValidated

SCHEMA_BASE = "https://modelgate.dev/schemas/events/"


@functools.cache
def _envelope(data: builtins.type[BaseModel]) -> builtins.type[CloudEvent[Any]]:
    return CloudEvent[data]  # type: ignore[valid-type]


@dataclass(frozen=True)
class EventType:
    type: str
    topic: str
    data: builtins.type[BaseModel]
    summary: str

    @property
    def envelope(self) -> builtins.type[CloudEvent[Any]]:
        """The CloudEvent model parametrised with this type's data model (built once: pydantic
        builds a new class on every parametrisation of this generic, at real cost per event)."""
        return _envelope(self.data)

    @property
    def dataschema(self) -> str:
        return f"{SCHEMA_BASE}{self.type}.schema.json"


SUBMITTED = EventType(
    "io.modelgate.model.submitted.v1",
    topics.SUBMITTED,
    ModelSubmitted,
    "A model version enters the gate. Published by ingest, or by any authorised producer.",
)
VALIDATED = EventType(
    "io.modelgate.model.validated.v1",
    topics.VALIDATED,
    ModelValidated,
    "The validator's verdict on a submission, with every check's result.",
)
REGISTERED = EventType(
    "io.modelgate.model.registered.v1",
    topics.REGISTERED,
    ModelRegistered,
    "A version passed the gate and is in the catalog.",
)
TRANSITIONED = EventType(
    "io.modelgate.model.transitioned.v1",
    topics.TRANSITIONED,
    ModelTransitioned,
    "A version's status, stage, alias or deployment changed.",
)
ARCHIVED = EventType(
    "io.modelgate.model.archived.v1",
    topics.ARCHIVED,
    ModelArchived,
    "A version or model was archived (soft delete, kept for compliance).",
)

EVENT_TYPES: dict[str, EventType] = {
    e.type: e for e in (SUBMITTED, VALIDATED, REGISTERED, TRANSITIONED, ARCHIVED)
}
BY_TOPIC: dict[str, EventType] = {e.topic: e for e in EVENT_TYPES.values()}
