"""`model.submitted`: a model enters the gate (from ingest, or published by a user)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from modelgate_shared.events.common import Artifact, Contract, ModelCard
from modelgate_shared.events.fields import Label, Name, ShortText, Version


class ModelSubmitted(Contract):
    submission_id: UUID
    """Id of the submission; ingest's status API and every later event refer to it."""
    name: Name
    """Model name: letters, digits, `.`, `_`, `-`, starting and ending alphanumeric."""
    version: Version
    """SemVer 2.0 version of this model, e.g. `1.2.0` or `3.1.0-May2025-Validated`."""
    submitter: ShortText
    """Who submitted it: the subject ingest or the registry authenticated, or, for an event a
    producer publishes itself, the name its signing key is registered under (an event naming
    anyone else is dead-lettered)."""
    artifact: Artifact
    model_card: ModelCard = Field(default_factory=ModelCard)
    labels: dict[Label, Label] = Field(default_factory=dict, max_length=128)
    """Free key/value labels for search, e.g. `{"task": "text-generation"}`."""
    source: ShortText | None = None
    """Where the weights came from, e.g. `hf://RedHatAI/granite-3.1-8b-instruct@main`."""
    hardware_profile: ShortText | None = None
    """Hardware the submitter asks to be certified for, e.g. `nvidia-l4-1gpu`."""
    submitted_at: datetime
