"""The CloudEvents 1.0 envelope (structured JSON mode) every Modelgate event travels in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Generic, Literal, TypeVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

D = TypeVar("D", bound=BaseModel)

CONTENT_TYPE = "application/cloudevents+json"


class CloudEvent(BaseModel, Generic[D]):
    """CloudEvents 1.0 attributes plus the typed `data` of one event type."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True, frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: UUID = Field(default_factory=uuid4)
    """Unique per event; consumers use it as the idempotency key."""
    source: str = Field(min_length=1, max_length=512)
    """URI-reference of the producer, e.g. `/modelgate/ingest`."""
    type: str = Field(min_length=1, max_length=256)
    """e.g. `io.modelgate.model.submitted.v1`."""
    subject: str = Field(min_length=1, max_length=512)
    """`<model name>/<version>` (or `<model name>` for model-level events)."""
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = Field(None, max_length=512)
    data: D
