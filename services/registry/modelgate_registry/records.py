"""Rows of the registry's tables, as typed values (also what the native API returns)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, row: Any) -> Any:
        return cls.model_validate(dict(row)) if row is not None else None


class ModelRecord(Record):
    id: int
    name: str
    description: str
    owner: str | None
    license: str | None
    state: str
    labels: dict[str, str]
    custom_properties: dict[str, Any]
    external_id: str | None
    kubeflow: dict[str, Any]
    sequence: int
    created_by: str
    created_at: datetime
    updated_at: datetime


class VersionRecord(Record):
    id: int
    model_id: int
    version: str
    status: str
    status_before_archive: str | None
    status_reason: str
    stage: str | None
    submission_id: UUID
    submitter: str
    uploader: str | None = None
    """Who supplied the model artifact (None until one is attached)."""
    author: str | None
    description: str
    labels: dict[str, str]
    model_card: dict[str, Any]
    lineage: dict[str, Any]
    artifact: dict[str, Any] | None
    validation: dict[str, Any] | None
    benchmark: dict[str, Any] | None
    hardware_profiles: list[str]
    requested_profile: str | None
    custom_properties: dict[str, Any]
    external_id: str | None
    created_at: datetime
    updated_at: datetime
    review: dict[str, Any] | None = None
    """The review decision: `decision` (approved, rejected), `by` (the approver, or
    `auto-approval:<rule>`), `reason`, `at`."""
    review_requested_at: datetime | None = None
    """When it passed validation and joined the review queue."""
    signer: dict[str, Any] | None = None
    """Who signed the model (OMS), as the validator verified it: `method`, `identity`,
    `trusted_as`, `signature` (see `SignerIdentity`)."""


class ArtifactRecord(Record):
    id: int
    version_id: int | None
    artifact_type: str
    name: str | None
    uri: str | None
    state: str
    description: str | None
    external_id: str | None
    properties: dict[str, Any]
    custom_properties: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class AliasRecord(Record):
    alias: str
    version_id: int
    version: str
    updated_by: str
    updated_at: datetime


class DeploymentRecord(Record):
    id: int
    version_id: int
    version: str
    environment: str
    actor: str
    note: str
    deployed_at: datetime


class TransitionRecord(Record):
    id: int
    kind: str
    from_value: str | None
    to_value: str
    actor: str
    approver: str | None
    reason: str
    at: datetime
