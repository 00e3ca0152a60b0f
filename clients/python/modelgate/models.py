"""What the services answer and accept, as typed values.

Each model mirrors a schema of a service's OpenAPI document (`SCHEMAS` names which); a test
compares their fields with the served `/openapi.json`, so a drift fails there rather than in a
user's script. Unknown fields are ignored: a newer server may add some.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ModelCard(Wire):
    """The model card a submission carries; `description`, `owner_team` and `license` are
    required by the default policy."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    owner_team: str | None = None
    license: str | None = None
    intended_use: str | None = None
    limitations: str | None = None
    training_data_version: str | None = None
    code_commit: str | None = None
    framework: str | None = None
    vendor: str | None = None
    quantization: str | None = None
    hyperparameters: dict[str, str | int | float | bool] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)


class Lineage(Wire):
    """Where a version came from; the registry shows it as the version's lineage."""

    source: str | None = None
    """Where the weights came from, e.g. `hf://org/model@revision`."""
    training_data_version: str | None = None
    code_commit: str | None = None


class SubmissionMetadata(Wire):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: str
    model_card: ModelCard = Field(default_factory=ModelCard)
    labels: dict[str, str] = Field(default_factory=dict)
    source: str | None = None
    hardware_profile: str | None = None
    format: str | None = None


class SubmissionAccepted(Wire):
    submission_id: str
    status: str
    status_url: str
    event_id: str | None = None
    trace_id: str | None = None


class Check(Wire):
    name: str
    status: str
    detail: str = ""
    duration_s: float | None = None


class Submission(Wire):
    """Where a submission is: pending, validating, pending_review (passed validation, waits
    for an approver), registered or rejected."""

    submission_id: str
    name: str
    version: str
    submitter: str
    status: str
    verdict: str | None = None
    failed_checks: list[Check] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    detail: str = ""
    artifact_uri: str | None = None
    model_id: int | None = None
    version_id: int | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def decided(self) -> bool:
        """The automated gate is done with it: registered, rejected, or waiting for review."""
        return self.status in ("pending_review", "registered", "rejected")

    @property
    def final(self) -> bool:
        """Registered or rejected: nothing will change its outcome any more."""
        return self.status in ("registered", "rejected")


class Model(Wire):
    id: int
    name: str
    description: str
    owner: str | None = None
    license: str | None = None
    state: str
    labels: dict[str, str] = Field(default_factory=dict)
    created_by: str
    created_at: datetime
    updated_at: datetime


class Alias(Wire):
    alias: str
    version_id: int
    version: str
    updated_by: str
    updated_at: datetime


class Deployment(Wire):
    id: int
    version_id: int
    version: str
    environment: str
    actor: str
    note: str
    deployed_at: datetime


class ModelDetail(Model):
    aliases: list[Alias] = Field(default_factory=list)
    running: list[Deployment] = Field(default_factory=list)
    versions_by_status: dict[str, int] = Field(default_factory=dict)


class Transition(Wire):
    id: int
    kind: str
    from_value: str | None = None
    to_value: str
    actor: str
    approver: str | None = None
    reason: str
    at: datetime


class Version(Wire):
    id: int
    model_id: int
    model_name: str
    version: str
    status: str
    status_reason: str
    stage: str | None = None
    submission_id: Any = None
    submitter: str
    uploader: str | None = None
    """Who supplied the model artifact; neither they nor the submitter may approve its
    promotion to production (four-eyes)."""
    description: str
    labels: dict[str, str] = Field(default_factory=dict)
    hardware_profiles: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    review: Review | None = None
    """The approver's decision, once made."""
    review_requested_at: datetime | None = None
    signer: dict[str, Any] | None = None
    """Who signed the model (OpenSSF Model Signing), as the validator verified it."""


class Review(Wire):
    decision: str
    """approved or rejected."""
    by: str
    """The approver, or `auto-approval:<rule>` when a policy rule approved it."""
    reason: str
    at: datetime


class ReviewItem(Version):
    """A version waiting for review, with what the reviewer judges by."""

    model_card: dict[str, Any] = Field(default_factory=dict)
    validation: dict[str, Any] | None = None
    benchmark: dict[str, Any] | None = None
    previous_version: str | None = None
    """The model's newest registered version before this one, to compare against."""
    waiting_since: datetime | None = None


class VersionDetail(Version):
    author: str | None = None
    model_card: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    lineage: dict[str, Any] = Field(default_factory=dict)
    artifact: dict[str, Any] | None = None
    validation: dict[str, Any] | None = None
    benchmark: dict[str, Any] | None = None
    requested_profile: str | None = None
    aliases: list[str] = Field(default_factory=list)
    transitions: list[Transition] = Field(default_factory=list)
    deployments: list[Deployment] = Field(default_factory=list)


class Page(Wire, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class DownloadFile(Wire):
    path: str
    url: str
    size: int | None = None
    sha256: str | None = None


class DownloadPlan(Wire):
    expires_in: int
    files: list[DownloadFile]
    signature: DownloadFile | None = None
    """The gate's OMS signature over `files` (`modelgate.sig`), where the gate signs."""


class AuditEntry(Wire):
    seq: int
    action: str
    model: str | None = None
    version: str | None = None
    subject: str | None = None
    actor: str | None = None
    from_stage: str | None = None
    to_stage: str | None = None
    approver: str | None = None
    reason: str | None = None
    event_id: str
    event_type: str
    topic: str
    event_time: datetime
    recorded_at: datetime
    hash: str


class AuditEntryPage(Wire):
    items: list[AuditEntry]
    next_cursor: int | None = None


class ExportedEntry(Wire):
    seq: int
    prev_hash: str
    hash: str
    canonical: str
    """Base64 of the bytes that were hashed."""


class ExportPage(Wire):
    items: list[ExportedEntry]
    next_cursor: int | None = None


class Checkpoint(Wire):
    seq: int
    head_hash: str
    time: str
    key_id: str
    signature: str = ""


class ServerVerifyReport(Wire):
    """The audit service's own answer (`GET /api/v1/audit/verify`)."""

    ok: bool
    entries_checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str = ""
    started_at_seq: int = 1
    checkpoints_checked: int = 0
    checkpoints_unverifiable: int = 0
    checkpoint_seqs: list[int] = Field(default_factory=list)


# Client model -> (service, schema name in that service's OpenAPI document).
SCHEMAS: dict[type[BaseModel], tuple[str, str]] = {
    SubmissionAccepted: ("ingest", "SubmissionAccepted"),
    Submission: ("ingest", "SubmissionState"),
    ModelCard: ("ingest", "ModelCard"),
    Model: ("registry", "ModelOut"),
    ModelDetail: ("registry", "ModelDetail"),
    Alias: ("registry", "AliasRecord"),
    Deployment: ("registry", "DeploymentRecord"),
    Transition: ("registry", "TransitionRecord"),
    Version: ("registry", "VersionOut"),
    VersionDetail: ("registry", "VersionDetail"),
    DownloadFile: ("registry", "DownloadFile"),
    DownloadPlan: ("registry", "Download"),
    AuditEntry: ("audit", "Entry"),
    AuditEntryPage: ("audit", "EntryPage"),
    ExportedEntry: ("audit", "ExportedEntry"),
    ExportPage: ("audit", "ExportPage"),
}


class TransitionRequest(Wire):
    to_stage: str
    reason: str


class ReviewRequest(Wire):
    decision: str
    reason: str


class AliasRequest(Wire):
    version: str
    reason: str = ""


class DeploymentRequest(Wire):
    environment: str
    note: str = ""


class ReasonRequest(Wire):
    reason: str


class ApiKeyRequest(Wire):
    name: str
    owner: str
    roles: list[str]
    expires_in_days: int = 90


class ApiKey(Wire):
    """An API key as an admin lists it: never the key itself."""

    id: str
    name: str
    owner: str
    roles: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None
    state: str
    """`active`, `expired` or `revoked`."""


class ApiKeyCreated(ApiKey):
    key: str
    """The key, answered this once."""


SCHEMAS.update(
    {
        ApiKeyRequest: ("registry", "ApiKeyIn"),
        ApiKey: ("registry", "ApiKeyOut"),
        ApiKeyCreated: ("registry", "ApiKeyCreated"),
        TransitionRequest: ("registry", "TransitionIn"),
        AliasRequest: ("registry", "AliasIn"),
        DeploymentRequest: ("registry", "DeploymentIn"),
        ReasonRequest: ("registry", "ReasonIn"),
    }
)
