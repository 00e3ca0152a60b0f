"""Request and response bodies of the native API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from modelgate_registry.records import (
    AliasRecord,
    DeploymentRecord,
    ModelRecord,
    TransitionRecord,
    VersionRecord,
)
from modelgate_registry.reviews import Decision
from modelgate_shared.events import Stage
from modelgate_shared.events.fields import Label

T = TypeVar("T")

ALIAS_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"
ENVIRONMENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
MAX_LABELS = 128
"""As many labels as a submission may carry, each key and value at most 256 characters."""


class ReviewOut(BaseModel):
    decision: Literal["approved", "rejected"]
    by: str
    """The approver's subject, or `auto-approval:<rule>` when a policy rule approved it."""
    reason: str
    at: datetime


class ModelOut(BaseModel):
    id: int
    name: str
    description: str
    owner: str | None
    license: str | None
    state: str
    labels: dict[str, str]
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: ModelRecord) -> ModelOut:
        return cls.model_validate(record.model_dump())


class ModelDetail(ModelOut):
    aliases: list[AliasRecord]
    running: list[DeploymentRecord]
    """The latest deployment in each environment: which version runs where."""
    versions_by_status: dict[str, int]


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    model_id: int
    model_name: str
    version: str
    status: str
    status_reason: str
    stage: str | None
    submission_id: Any
    submitter: str
    """Who created or submitted the version."""
    uploader: str | None = None
    """Who supplied its model artifact (uploaded it, or attached it through the Kubeflow API);
    neither the submitter nor the uploader may approve its promotion to production."""
    description: str
    labels: dict[str, str]
    hardware_profiles: list[str]
    created_at: datetime
    updated_at: datetime
    review: ReviewOut | None = None
    """The review decision, once made (absent while waiting and for versions registered
    before review existed)."""
    review_requested_at: datetime | None = None
    """When it passed validation and began waiting for review."""
    signer: dict[str, Any] | None = None
    """Who signed the model (OpenSSF Model Signing), as the validator verified it: `method`
    (`key`, `certificate`), `identity` (key fingerprint or certificate subject), `trusted_as`
    (the signing policy's signer), `signature` (the file). Absent: not signed, or not verified."""


class ReviewIn(BaseModel):
    decision: Decision
    reason: str = Field(min_length=1, max_length=4000)
    """Why: kept in the version's history, its event and the audit log."""


class ReviewItem(VersionOut):
    """A version waiting for review, with what a reviewer judges by."""

    model_card: dict[str, Any]
    validation: dict[str, Any] | None
    benchmark: dict[str, Any] | None
    previous_version: str | None
    """The model's newest registered version before this one: compare the card against it."""
    waiting_since: datetime | None


class ReviewPolicyOut(BaseModel):
    source: str | None
    """The policy file (`MODELGATE_REVIEW_POLICY`); none: every version waits for a human."""
    loaded_at: datetime | None
    error: str | None
    """Why the file's current content is not in force, if it is not."""
    rules: list[dict[str, Any]]


class VersionDetail(VersionOut):
    author: str | None
    model_card: dict[str, Any]
    metrics: dict[str, Any]
    lineage: dict[str, Any]
    artifact: dict[str, Any] | None
    validation: dict[str, Any] | None
    benchmark: dict[str, Any] | None
    requested_profile: str | None
    aliases: list[str]
    transitions: list[TransitionRecord]
    deployments: list[DeploymentRecord]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> VersionDetail:
        """From `reads.version_detail`: the version, its model and what hangs off it."""
        version = VersionRecord.model_validate(row["version"])
        return cls(
            **version.model_dump(
                exclude={"status_before_archive", "custom_properties", "external_id"}
            ),
            model_name=row["model"]["name"],
            metrics=version.model_card.get("metrics", {}),
            aliases=[a["alias"] for a in row["aliases"]],
            transitions=row["transitions"],
            deployments=row["deployments"],
        )

    @classmethod
    def build(
        cls,
        model: ModelRecord,
        version: VersionRecord,
        aliases: list[AliasRecord],
        transitions: list[TransitionRecord],
        deployments: list[DeploymentRecord],
    ) -> VersionDetail:
        return cls(
            **version.model_dump(
                exclude={"status_before_archive", "custom_properties", "external_id"}
            ),
            model_name=model.name,
            metrics=version.model_card.get("metrics", {}),
            aliases=[a.alias for a in aliases if a.version_id == version.id],
            transitions=transitions,
            deployments=[d for d in deployments if d.version_id == version.id],
        )


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
    """Pass as `cursor` for the next page; absent on the last page."""


class TransitionIn(BaseModel):
    to_stage: Stage
    reason: str = Field(min_length=1, max_length=4000)


class AliasIn(BaseModel):
    version: str = Field(min_length=1, max_length=128)
    reason: str = Field("", max_length=4000)


class DeploymentIn(BaseModel):
    environment: str = Field(pattern=ENVIRONMENT_PATTERN)
    note: str = Field("", max_length=4000)


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=4000)


class ModelPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(None, max_length=16384)
    owner: str | None = Field(None, max_length=256)
    license: str | None = Field(None, max_length=256)
    labels: dict[Label, Label] | None = Field(None, max_length=MAX_LABELS)


class VersionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(None, max_length=16384)
    labels: dict[Label, Label] | None = Field(None, max_length=MAX_LABELS)


class DownloadFile(BaseModel):
    path: str
    url: str
    """Presigned GET of the pinned copy (its S3 version), valid for `expires_in` seconds."""
    size: int
    sha256: str
    """SHA-256 the validator computed: check the downloaded bytes against it."""


class Download(BaseModel):
    expires_in: int
    files: list[DownloadFile]
    signature: DownloadFile | None = None
    """The gate's OpenSSF Model Signing signature over `files` (`modelgate.sig`), when the gate
    signs: save it beside them and check it with `modelgate verify` or `model_signing verify key`
    and the key at `GET /api/v1/signing-key`."""
