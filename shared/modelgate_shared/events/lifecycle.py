"""The registry's events: `model.registered`, `model.transitioned`, `model.archived`."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from modelgate_shared.events.common import Contract
from modelgate_shared.events.fields import LongText, Name, ShortText, Version


class VersionStatus(StrEnum):
    """Where a version is in the gate."""

    PENDING = "PENDING"
    VALIDATING = "VALIDATING"
    PENDING_REVIEW = "PENDING_REVIEW"
    """Passed validation; waits for an approver (no auto-approval rule matched)."""
    REGISTERED = "REGISTERED"
    REJECTED = "REJECTED"
    ARCHIVED = "ARCHIVED"


class Stage(StrEnum):
    """Lifecycle stage of a registered version."""

    DEVELOPMENT = "development"
    STAGING = "staging"
    CANARY = "canary"
    PRODUCTION = "production"
    DEPRECATED = "deprecated"


class RegistryEvent(Contract):
    model_id: int
    version_id: int | None = None
    name: Name
    version: Version | None = None
    actor: ShortText
    """Who caused it: an authenticated subject, or `modelgate-validator` for verdicts."""
    sequence: int
    """Per-model sequence number: consumers can drop an event older than one already seen."""
    occurred_at: datetime
    submission_id: UUID | None = None
    """The submission the version came from, when the event concerns one."""


class ModelRegistered(RegistryEvent):
    submission_id: UUID
    """The submission the version came from."""
    artifact_uri: str
    """Root of the version's pinned files (the validator's immutable copies), never the
    location the submission named."""
    stage: Stage
    certified_hardware_profiles: list[ShortText] = Field(default_factory=list)
    approver: ShortText | None = None
    """Who let it into the catalog: the admin who approved it in review, or
    `auto-approval:<rule>` when the review policy's rule approved it (absent before review
    existed)."""
    reason: LongText = ""
    """The approver's reason, or the rule's description."""


class TransitionKind(StrEnum):
    STATUS = "status"
    STAGE = "stage"
    ALIAS = "alias"
    DEPLOYMENT = "deployment"
    METADATA = "metadata"


class ModelTransitioned(RegistryEvent):
    kind: TransitionKind
    """What changed: the gate status, the stage, an alias, a deployment record, or metadata
    (creation, description, labels, custom properties)."""
    from_value: ShortText | None = None
    to_value: ShortText
    reason: LongText = ""
    approver: ShortText | None = None
    """Second person who approved (four-eyes promotion to production)."""
    environment: ShortText | None = None
    """For deployments and aliases: the environment or alias name."""


class ModelArchived(RegistryEvent):
    """A version (or, without `version_id`, a whole model) left the catalog. It is kept for
    compliance, never erased; a restore is a `model.transitioned` status change."""

    reason: LongText = ""
